#!/usr/bin/env python3
"""lbsim's reference model (benches/reference.toml) written in Ciw, the queueing-network library.

Model: Poisson arrivals at LAMBDA requests/s spread over N_TARGETS single-server FIFO
nodes (exponential service, mean 1/MU). Response time = exit date - arrival date.
Requests that arrive after the warm-up and complete before the end are recorded (as lbsim's
latency_ms.count/mean); `requests` counts every arrival, warm-up included (as lbsim's
requests.arrived).

Two ways to build the random-routing network (--topology):

  split (default for `random`): 16 nodes, each with its own external Poisson stream at
      LAMBDA/16 and ciw.routing.Leave(). By the Poisson splitting theorem, routing a Poisson
      stream of rate LAMBDA to one of 16 targets independently and uniformly at random gives
      16 independent Poisson streams of rate LAMBDA/16, so this is the same stochastic model
      as lbsim's and SimPy's (one source, uniform random choice), not an approximation. It is
      also how one writes it naturally in Ciw, and the cheapest: one node visit per request,
      as in the other two simulators.
  dispatcher: one extra node 1 (infinitely many servers, zero service time) receives all
      LAMBDA arrivals and routes with a ciw router: Probabilistic([2..17], [1/16]*16) for
      `random`, Cycle for `round_robin`, LoadBalancing (join the node with the fewest
      individuals, in service included, ties at random) for `least_outstanding_requests`,
      and a small custom NodeRouting for `power_of_two_choices`. Each request then makes two
      node visits (a zero-length one at the dispatcher), so Ciw does more work per request.
      Algorithms other than `random` need it.

Prints one JSON line:
  {"simulator": "ciw", "requests": ..., "wall_s": ..., "mean_ms": ..., "count": ..., ...}
wall_s is time.perf_counter() around Simulation.simulate_until_max_time() only; building
the network and reading the records afterwards are not timed (post_s reports the latter).
"""
import argparse
import json
import random
import sys
import time

import ciw

LAMBDA = 1440.0  # requests/s (rho = 0.9)
MU = 100.0  # per target: exponential service, mean 10 ms
N_TARGETS = 16

ALGORITHMS = ("random", "round_robin", "least_outstanding_requests", "power_of_two_choices")


class PowerOfTwoChoices(ciw.routing.NodeRouting):
    """Two distinct destinations at random; the one with fewer individuals; ties to the first."""

    def __init__(self, destinations):
        self.destinations = destinations

    def next_node(self, ind):
        a, b = random.sample(self.destinations, 2)
        na = self.simulation.nodes[a]
        nb = self.simulation.nodes[b]
        return nb if nb.number_of_individuals < na.number_of_individuals else na


def build_network(algorithm, topology):
    if topology == "split":
        if algorithm != "random":
            raise ValueError("--topology split models only --algorithm random")
        return ciw.create_network(
            arrival_distributions=[ciw.dists.Exponential(rate=LAMBDA / N_TARGETS) for _ in range(N_TARGETS)],
            service_distributions=[ciw.dists.Exponential(rate=MU) for _ in range(N_TARGETS)],
            number_of_servers=[1] * N_TARGETS,
            routing=ciw.routing.NetworkRouting(routers=[ciw.routing.Leave() for _ in range(N_TARGETS)]),
        )
    # topology == "dispatcher": node 1 routes, nodes 2..17 are the targets.
    targets = list(range(2, N_TARGETS + 2))
    if algorithm == "random":
        router = ciw.routing.Probabilistic(destinations=targets, probs=[1.0 / N_TARGETS] * N_TARGETS)
    elif algorithm == "round_robin":
        router = ciw.routing.Cycle(cycle=targets)
    elif algorithm == "least_outstanding_requests":
        router = ciw.routing.LoadBalancing(destinations=targets, tie_break="random")
    elif algorithm == "power_of_two_choices":
        router = PowerOfTwoChoices(targets)
    else:
        raise ValueError(f"unknown algorithm {algorithm!r}")
    return ciw.create_network(
        arrival_distributions=[ciw.dists.Exponential(rate=LAMBDA)] + [None] * N_TARGETS,
        service_distributions=[ciw.dists.Deterministic(value=0.0)]
        + [ciw.dists.Exponential(rate=MU) for _ in range(N_TARGETS)],
        number_of_servers=[float("inf")] + [1] * N_TARGETS,
        routing=ciw.routing.NetworkRouting(routers=[router] + [ciw.routing.Leave() for _ in range(N_TARGETS)]),
    )


def run(seed, duration, warmup, algorithm, topology):
    if topology is None:
        topology = "split" if algorithm == "random" else "dispatcher"
    network = build_network(algorithm, topology)
    ciw.seed(seed)
    sim = ciw.Simulation(network)
    t0 = time.perf_counter()
    sim.simulate_until_max_time(duration)
    wall = time.perf_counter() - t0

    t1 = time.perf_counter()
    first_target = 1 if topology == "split" else 2
    total = 0.0
    count = 0
    for r in sim.get_all_records():
        # One record per completed node visit. At the dispatcher a visit takes no time, so a
        # request's arrival date at its target is its arrival date in the system.
        if r.node >= first_target and r.arrival_date >= warmup:
            total += r.exit_date - r.arrival_date
            count += 1
    post = time.perf_counter() - t1
    return {
        "simulator": "ciw",
        "version": ciw.__version__,
        "algorithm": algorithm,
        "topology": topology,
        "seed": seed,
        "duration_s": duration,
        "warmup_s": warmup,
        "requests": sim.nodes[0].number_of_individuals,
        "wall_s": wall,
        "post_s": post,
        "mean_ms": 1000.0 * total / count if count else float("nan"),
        "count": count,
    }


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--duration", type=float, default=705.0, help="simulated seconds (warm-up included)")
    p.add_argument("--warmup", type=float, default=10.0, help="seconds; arrivals before it are not recorded")
    p.add_argument("--algorithm", choices=ALGORITHMS, default="random")
    p.add_argument(
        "--topology",
        choices=("split", "dispatcher"),
        default=None,
        help="split: 16 Poisson streams at λ/16 (random only; default for random); "
        "dispatcher: one zero-time routing node (default for the other algorithms)",
    )
    a = p.parse_args(argv)
    print(json.dumps(run(a.seed, a.duration, a.warmup, a.algorithm, a.topology)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
