#!/usr/bin/env python3
"""lbsim's reference model (benches/reference.toml) written in SimPy 4, as a SimPy user would.

Model: Poisson arrivals at LAMBDA requests/s; a router sends each request to one of
N_TARGETS single-server FIFO queues (simpy.Resource(capacity=1)); service times are
exponential with mean 1/MU. Response time = completion time - arrival time. Requests that
arrive after the warm-up and complete before the end are recorded (as lbsim's
latency_ms.count/mean); `requests` counts every arrival, warm-up included (as lbsim's
requests.arrived).

Prints one JSON line:
  {"simulator": "simpy", "requests": ..., "wall_s": ..., "mean_ms": ..., "count": ..., ...}
wall_s is time.perf_counter() around env.run() only (building the model and importing
SimPy are not timed).
"""
import argparse
import json
import random
import sys
import time

import simpy

LAMBDA = 1440.0  # requests/s (rho = 0.9)
MU = 100.0  # per target: exponential service, mean 10 ms
N_TARGETS = 16

ALGORITHMS = ("random", "round_robin", "least_outstanding_requests", "power_of_two_choices")


def outstanding(server):
    """Requests at a target: waiting in its queue plus in service."""
    return len(server.queue) + server.count


def make_router(algorithm, servers, rng):
    n = len(servers)
    if algorithm == "random":
        return lambda: servers[rng.randrange(n)]
    if algorithm == "round_robin":
        state = {"next": 0}

        def round_robin():
            i = state["next"]
            state["next"] = (i + 1) % n
            return servers[i]

        return round_robin
    if algorithm == "least_outstanding_requests":
        # Join the shortest queue (in service counted); ties broken uniformly at random.
        def least_outstanding():
            best = min(outstanding(s) for s in servers)
            return rng.choice([s for s in servers if outstanding(s) == best])

        return least_outstanding
    if algorithm == "power_of_two_choices":
        # Two distinct targets at random; the one with fewer outstanding; ties to the first.
        def two_choices():
            a, b = rng.sample(servers, 2)
            return b if outstanding(b) < outstanding(a) else a

        return two_choices
    raise ValueError(f"unknown algorithm {algorithm!r}")


def run(seed, duration, warmup, algorithm):
    rng = random.Random(seed)
    env = simpy.Environment()
    servers = [simpy.Resource(env, capacity=1) for _ in range(N_TARGETS)]
    route = make_router(algorithm, servers, rng)
    stats = {"arrived": 0, "sum": 0.0, "count": 0}

    def request(server):
        arrival = env.now
        with server.request() as req:
            yield req
            yield env.timeout(rng.expovariate(MU))
        if arrival >= warmup:
            stats["sum"] += env.now - arrival
            stats["count"] += 1

    def source():
        while True:
            yield env.timeout(rng.expovariate(LAMBDA))
            stats["arrived"] += 1
            env.process(request(route()))

    env.process(source())
    t0 = time.perf_counter()
    env.run(until=duration)
    wall = time.perf_counter() - t0
    count = stats["count"]
    return {
        "simulator": "simpy",
        "version": simpy.__version__,
        "algorithm": algorithm,
        "seed": seed,
        "duration_s": duration,
        "warmup_s": warmup,
        "requests": stats["arrived"],
        "wall_s": wall,
        "mean_ms": 1000.0 * stats["sum"] / count if count else float("nan"),
        "count": count,
    }


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--duration", type=float, default=705.0, help="simulated seconds (warm-up included)")
    p.add_argument("--warmup", type=float, default=10.0, help="seconds; arrivals before it are not recorded")
    p.add_argument("--algorithm", choices=ALGORITHMS, default="random")
    a = p.parse_args(argv)
    print(json.dumps(run(a.seed, a.duration, a.warmup, a.algorithm)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
