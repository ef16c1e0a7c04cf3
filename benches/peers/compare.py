#!/usr/bin/env python3
"""Side-by-side peer benchmark: lbsim vs SimPy vs Ciw on lbsim's reference model.

The workload is benches/reference.toml: 16 single-server FIFO targets (M/M/1 each),
exponential service with mean 10 ms (mu = 100/s), Poisson arrivals at 1440 requests/s
(rho = 0.9), 10 s warm-up, routing `random` by default. Every simulator runs the same
duration (warm-up + N/lambda) with the same seeds; each is run K times (seed 1..K).

Reports, per simulator: the median wall time and median requests/s over the K runs, the
ratios lbsim/SimPy and lbsim/Ciw, and the like-for-like check: the mean response time over
the K replications with its Student-t confidence interval must contain the theoretical value
(M/M/1: 1/(mu - lambda/16) = 100 ms for `random`; E16/M/1 for `round_robin`) and each pair
of simulators must agree (the Welch CI of the difference contains 0). Exits 1 if the check
fails, 2 on a usage or setup error.

Timing: lbsim is timed as a whole process (start-up, reading the scenario, simulating,
writing summary.json/metrics.csv/events.csv and printing its table); its own in-process rate
(the "in X s wall" of its first output line) is reported too. SimPy and Ciw are timed with
time.perf_counter() around the simulation call only (no interpreter start-up, no imports,
no model building, no analysis), which favours them.

Usage: python3 benches/peers/compare.py [--requests N] [--runs K] [--seeds S ...]
(benches/peers/run.sh sets up the virtualenv, builds lbsim and calls this.)
"""
import argparse
import datetime
import json
import math
import os
import platform
import re
import statistics
import subprocess
import sys
import tempfile
import time
import tomllib
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parent.parent
REFERENCE = REPO / "benches" / "reference.toml"
VENV = HERE / ".venv"
VENV_PYTHON = VENV / "bin" / "python"
LBSIM = REPO / "target" / "release" / "lbsim"

# The model the peers hard-code; checked against benches/reference.toml at start.
LAMBDA = 1440.0
MU = 100.0
N_TARGETS = 16
WARMUP_S = 10.0

ALGORITHMS = ("random", "round_robin", "least_outstanding_requests", "power_of_two_choices")
SIMULATORS = ("lbsim", "simpy", "ciw")


# ---------------------------------------------------------------- statistics (stdlib only)


def _betacf(a, b, x):
    """Continued fraction of the incomplete beta function (Lentz; Numerical Recipes 6.4)."""
    tiny = 1e-300
    qab, qap, qam = a + b, a + 1.0, a - 1.0
    c, d = 1.0, 1.0 - qab * x / qap
    d = 1.0 / (d if abs(d) > tiny else tiny)
    h = d
    for m in range(1, 500):
        m2 = 2 * m
        aa = m * (b - m) * x / ((qam + m2) * (a + m2))
        d = 1.0 + aa * d
        d = 1.0 / (d if abs(d) > tiny else tiny)
        c = 1.0 + aa / c
        c = c if abs(c) > tiny else tiny
        h *= d * c
        aa = -(a + m) * (qab + m) * x / ((a + m2) * (qap + m2))
        d = 1.0 + aa * d
        d = 1.0 / (d if abs(d) > tiny else tiny)
        c = 1.0 + aa / c
        c = c if abs(c) > tiny else tiny
        delta = d * c
        h *= delta
        if abs(delta - 1.0) < 1e-15:
            break
    return h


def _betainc(a, b, x):
    """Regularized incomplete beta I_x(a, b)."""
    if x <= 0.0:
        return 0.0
    if x >= 1.0:
        return 1.0
    lbt = math.lgamma(a + b) - math.lgamma(a) - math.lgamma(b) + a * math.log(x) + b * math.log1p(-x)
    if x < (a + 1.0) / (a + b + 2.0):
        return math.exp(lbt) * _betacf(a, b, x) / a
    return 1.0 - math.exp(lbt) * _betacf(b, a, 1.0 - x) / b


def t_cdf(t, df):
    p = 0.5 * _betainc(df / 2.0, 0.5, df / (df + t * t))
    return 1.0 - p if t >= 0 else p


def t_quantile(p, df):
    """Quantile of Student's t with df degrees of freedom (0.5 < p < 1), by bisection."""
    lo, hi = 0.0, 1e4
    for _ in range(200):
        mid = 0.5 * (lo + hi)
        if t_cdf(mid, df) < p:
            lo = mid
        else:
            hi = mid
    return 0.5 * (lo + hi)


def mean_ci(xs, level):
    """Mean, CI half-width (Student t, n-1 df), standard error."""
    n = len(xs)
    m = statistics.fmean(xs)
    se = statistics.stdev(xs) / math.sqrt(n)
    return m, t_quantile(0.5 + level / 2.0, n - 1) * se, se


def welch(a, b, level):
    """Difference of means, its CI half-width (Welch-Satterthwaite df)."""
    va, vb = statistics.variance(a) / len(a), statistics.variance(b) / len(b)
    diff = statistics.fmean(a) - statistics.fmean(b)
    if va + vb == 0.0:
        return diff, 0.0
    df = (va + vb) ** 2 / (va * va / (len(a) - 1) + vb * vb / (len(b) - 1))
    return diff, t_quantile(0.5 + level / 2.0, df) * math.sqrt(va + vb)


# ---------------------------------------------------------------- theory


def theory_ms(algorithm):
    """Mean response time in ms where there is a closed form, else None."""
    lam_t = LAMBDA / N_TARGETS
    if algorithm == "random":
        # Poisson splitting: each target is M/M/1 at lambda/16.
        return 1000.0 / (MU - lam_t)
    if algorithm == "round_robin":
        # Each target sees every 16th arrival: Erlang-16 gaps, E16/M/1 (a GI/M/1 queue).
        # Mean sojourn 1/(mu (1 - s)) with s the root in (0, 1) of s = A*(mu (1 - s)),
        # A*(x) = (lambda / (lambda + x))^16 the Laplace transform of the gap.
        s = 0.0
        for _ in range(100000):
            s_next = (LAMBDA / (LAMBDA + MU * (1.0 - s))) ** N_TARGETS
            if abs(s_next - s) < 1e-15:
                break
            s = s_next
        return 1000.0 / (MU * (1.0 - s))
    return None  # JSQ and power of two choices: no closed form; only the pairwise check


# ---------------------------------------------------------------- set-up


def die(message):
    """A usage or set-up error: exit 2 (exit 1 means the like-for-like check failed)."""
    print(f"compare.py: {message}", file=sys.stderr)
    sys.exit(2)


def check_reference():
    """The peers hard-code the model: make sure benches/reference.toml still says the same."""
    with open(REFERENCE, "rb") as f:
        ref = tomllib.load(f)
    svc = ref["services"][0]
    problems = []
    if ref["clients"][0]["arrivals"] != {"process": "poisson", "rate_rps": LAMBDA}:
        problems.append(f"clients.0.arrivals is {ref['clients'][0]['arrivals']}, the peers assume Poisson at {LAMBDA}/s")
    if svc["desired_count"] != N_TARGETS:
        problems.append(f"services.0.desired_count is {svc['desired_count']}, the peers assume {N_TARGETS}")
    if svc["task"].get("max_concurrency") != 1:
        problems.append("services.0.task.max_concurrency is not 1 (the peers model single servers)")
    if svc["request"]["cpu_time"] != {"dist": "exponential", "mean": "10ms"}:
        problems.append(f"services.0.request.cpu_time is {svc['request']['cpu_time']}, the peers assume exponential 10ms")
    if svc["task"].get("cpu") != 1024:
        problems.append("services.0.task.cpu is not 1024 (1 vCPU): CPU time would not equal service time")
    if problems:
        die("benches/reference.toml no longer matches the peers' model:\n  " + "\n  ".join(problems))


def ensure_venv(python):
    if python is not None:
        return python
    if not VENV_PYTHON.exists():
        print(f"Creating {VENV.relative_to(REPO)} and installing requirements.txt ...", flush=True)
        subprocess.run([sys.executable, "-m", "venv", str(VENV)], check=True)
        subprocess.run(
            [str(VENV_PYTHON), "-m", "pip", "install", "-q", "-r", str(HERE / "requirements.txt")], check=True
        )
    return str(VENV_PYTHON)


def build_lbsim():
    print("Building lbsim (cargo build --release) ...", flush=True)
    subprocess.run(["cargo", "build", "--release", "--quiet"], cwd=REPO, check=True)


def lbsim_revision():
    """The commit lbsim was built from, "+dirty" when the work tree had changes."""
    try:
        rev = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=REPO, capture_output=True,
                             text=True, check=True).stdout.strip()
        dirty = subprocess.run(["git", "status", "--porcelain", "--untracked-files=no", "--", "src", "Cargo.toml",
                                "Cargo.lock"], cwd=REPO, capture_output=True, text=True, check=True).stdout.strip()
        return rev + ("+dirty" if dirty else "")
    except (OSError, subprocess.CalledProcessError):
        return "unknown"


def machine_description():
    cpu = platform.processor() or platform.machine()
    try:
        for line in open("/proc/cpuinfo"):
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return f"{cpu}, {os.cpu_count()} logical CPUs, {platform.system()} {platform.release()}"


# ---------------------------------------------------------------- runners

# "... in 0.20 s wall (1,014,853 requests, 5.13 M requests/s, 10.25 M events/s)": the rate
# has three significant digits where the wall time has only two decimals, so use the rate.
LBSIM_OWN_RATE = re.compile(r"([\d.,]+) (k |M )?requests/s")


def run_lbsim(lbsim, seed, duration, warmup, algorithm):
    with tempfile.TemporaryDirectory(prefix="lbsim-peers-") as out:
        cmd = [
            lbsim, "run", str(REFERENCE),
            "--set", f"target_groups.0.algorithm={algorithm}",
            "--set", f"simulation.duration={duration}s",
            "--set", f"simulation.warmup={warmup}s",
            "--seed", str(seed),
            "--out", out,
        ]  # fmt: skip
        t0 = time.perf_counter()
        proc = subprocess.run(cmd, capture_output=True, text=True)
        wall = time.perf_counter() - t0
        if proc.returncode != 0:
            raise RuntimeError(f"lbsim failed ({proc.returncode}): {' '.join(cmd)}\n{proc.stderr}")
        with open(Path(out) / "summary.json") as f:
            summary = json.load(f)
    first = proc.stdout.splitlines()[0] if proc.stdout else ""
    own_rate = None
    m = LBSIM_OWN_RATE.search(first)
    if m:
        own_rate = float(m.group(1).replace(",", "")) * {"k ": 1e3, "M ": 1e6}.get(m.group(2), 1.0)
    return {
        "simulator": "lbsim",
        "version": summary.get("lbsim_version", "?"),
        "seed": seed,
        "requests": summary["requests"]["arrived"],
        "wall_s": wall,
        "own_rate": own_rate,
        "mean_ms": summary["latency_ms"]["mean"],
        "count": summary["latency_ms"]["count"],
    }


def run_peer(python, script, seed, duration, warmup, algorithm, extra=()):
    cmd = [python, str(HERE / script), "--seed", str(seed), "--duration", str(duration),
           "--warmup", str(warmup), "--algorithm", algorithm, *extra]  # fmt: skip
    proc = subprocess.run(cmd, capture_output=True, text=True)
    if proc.returncode != 0:
        raise RuntimeError(f"{script} failed ({proc.returncode}): {' '.join(cmd)}\n{proc.stderr}")
    return json.loads(proc.stdout.strip().splitlines()[-1])


# ---------------------------------------------------------------- report


def fmt_rate(r):
    if r is None:
        return "—"
    if r >= 1e6:
        return f"{r / 1e6:.2f} M/s"
    if r >= 1e3:
        return f"{r / 1e3:.1f} k/s"
    return f"{r:.0f} /s"


def print_table(rows, headers, aligns):
    widths = [max(len(h), *(len(r[i]) for r in rows)) for i, h in enumerate(headers)]

    def line(cells):
        return "  ".join(c.rjust(w) if a == "r" else c.ljust(w) for c, w, a in zip(cells, widths, aligns))

    print(line(headers))
    print("  ".join("-" * w for w in widths))
    for r in rows:
        print(line(r))


def main(argv=None):
    p = argparse.ArgumentParser(description="lbsim vs SimPy vs Ciw on benches/reference.toml", epilog=__doc__)
    p.add_argument("--requests", type=int, default=1_000_000,
                   help="expected requests after the warm-up (duration = warm-up + N/1440 s); default 1000000")
    p.add_argument("--runs", type=int, default=None, help="runs (replications) per simulator, seeds 1..K; default 5")
    p.add_argument("--seeds", type=int, nargs="+", default=None, help="explicit seeds, one run each (sets K)")
    p.add_argument("--algorithm", choices=ALGORITHMS, default="random")
    p.add_argument("--warmup", type=float, default=WARMUP_S, help="seconds; default 10")
    p.add_argument("--ciw-topology", choices=("split", "dispatcher"), default=None,
                   help="Ciw network: split (16 Poisson streams at λ/16; default for random) or dispatcher "
                        "(one zero-time routing node; default otherwise). See ciw_reference.py")
    p.add_argument("--simulators", nargs="+", choices=SIMULATORS, default=list(SIMULATORS))
    p.add_argument("--level", type=float, default=0.95, help="confidence level of the CIs; default 0.95")
    p.add_argument("--python", default=None, help="Python with simpy and ciw (default: benches/peers/.venv)")
    p.add_argument("--lbsim", default=str(LBSIM), help="lbsim binary (default: target/release/lbsim)")
    p.add_argument("--no-build", action="store_true", help="do not run cargo build --release first")
    p.add_argument("--json", metavar="PATH", help="also write every run and the summary as JSON")
    a = p.parse_args(argv)

    if a.seeds is not None:
        if a.runs is not None and a.runs != len(a.seeds):
            p.error(f"--runs {a.runs} but {len(a.seeds)} --seeds")
        seeds = a.seeds
    else:
        seeds = list(range(1, (a.runs or 5) + 1))
    if len(seeds) < 2:
        p.error("need at least 2 runs for a confidence interval")
    if a.requests <= 0 or not 0.0 < a.level < 1.0:
        p.error("--requests must be positive and --level in (0, 1)")
    if a.ciw_topology == "split" and a.algorithm != "random":
        p.error("--ciw-topology split models only --algorithm random")

    check_reference()
    sims = [s for s in SIMULATORS if s in a.simulators]
    python = ensure_venv(a.python) if ("simpy" in sims or "ciw" in sims) else None
    if "lbsim" in sims:
        if not a.no_build:
            build_lbsim()
        if not Path(a.lbsim).exists():
            die(f"no lbsim binary at {a.lbsim} (cargo build --release)")

    duration = round(a.warmup + a.requests / LAMBDA, 3)
    ciw_extra = ("--topology", a.ciw_topology) if a.ciw_topology else ()
    started = time.perf_counter()
    print(f"lbsim peer benchmark · {datetime.datetime.now().astimezone():%Y-%m-%d %H:%M %Z} · {machine_description()}")
    revision = lbsim_revision()
    print(f"lbsim at {revision}; Python {platform.python_version()}")
    print(f"workload: reference.toml, algorithm {a.algorithm}, λ = {LAMBDA:g}/s, μ = {MU:g}/s, "
          f"{N_TARGETS} M/M/1 targets, {duration:g} s simulated ({a.warmup:g} s warm-up, "
          f"≈ {a.requests:,} requests after it), seeds {' '.join(map(str, seeds))}")
    print("runs interleaved by seed (lbsim, SimPy, Ciw, next seed ...):", flush=True)

    runs = {s: [] for s in sims}
    for seed in seeds:
        for sim in sims:
            if sim == "lbsim":
                r = run_lbsim(a.lbsim, seed, duration, a.warmup, a.algorithm)
            elif sim == "simpy":
                r = run_peer(python, "simpy_reference.py", seed, duration, a.warmup, a.algorithm)
            else:
                r = run_peer(python, "ciw_reference.py", seed, duration, a.warmup, a.algorithm, ciw_extra)
            r["rate"] = r["requests"] / r["wall_s"]
            runs[sim].append(r)
            own = f" (own {fmt_rate(r['own_rate'])})" if r.get("own_rate") else ""
            print(f"  {sim:5s} seed {seed:<3d} {r['requests']:>9,} requests  {r['wall_s']:8.3f} s  "
                  f"{fmt_rate(r['rate']):>10s}  mean {r['mean_ms']:8.3f} ms over {r['count']:,}{own}", flush=True)

    # ---- speed
    names = {"lbsim": "lbsim", "simpy": "SimPy", "ciw": "Ciw"}
    summary = {}
    for sim in sims:
        rs = runs[sim]
        rates = [r["rate"] for r in rs]
        summary[sim] = {
            "version": rs[0].get("version", "?"),
            "median_wall_s": statistics.median(r["wall_s"] for r in rs),
            "median_requests": statistics.median(r["requests"] for r in rs),
            "median_rate": statistics.median(rates),
            "min_rate": min(rates),
            "max_rate": max(rates),
        }
        if sim == "lbsim" and all(r.get("own_rate") for r in rs):
            summary[sim]["median_own_rate"] = statistics.median(r["own_rate"] for r in rs)
    print()
    print(f"Speed: median of {len(seeds)} runs (requests = all arrivals, warm-up included; "
          f"requests/s = requests / wall)")
    rows = []
    for sim in sims:
        s = summary[sim]
        timed = {"lbsim": "whole process", "simpy": "env.run() only", "ciw": "simulate_until_max_time() only"}[sim]
        rows.append([names[sim], s["version"], timed, f"{s['median_requests']:,.0f}", f"{s['median_wall_s']:.3f}",
                     fmt_rate(s["median_rate"]), f"{fmt_rate(s['min_rate'])} – {fmt_rate(s['max_rate'])}"])
    if "median_own_rate" in summary.get("lbsim", {}):
        s = summary["lbsim"]
        rows.append(["lbsim (own)", s["version"], "in-process, as it prints", "", "",
                     fmt_rate(s["median_own_rate"]), ""])
    print_table(rows, ["simulator", "version", "timed", "requests", "wall s", "requests/s", "range"],
                "lllrrrl")
    if "lbsim" in sims:
        for peer in ("simpy", "ciw"):
            if peer in sims:
                ratio = summary["lbsim"]["median_rate"] / summary[peer]["median_rate"]
                summary[f"ratio_lbsim_{peer}"] = ratio
                extra = ""
                if "median_own_rate" in summary["lbsim"]:
                    own = summary["lbsim"]["median_own_rate"] / summary[peer]["median_rate"]
                    summary[f"ratio_lbsim_own_{peer}"] = own
                    extra = f" (in-process rate: {own:,.0f}×)"
                print(f"lbsim / {names[peer]}: {ratio:,.0f}× the requests per second{extra}")

    # ---- like for like
    level = a.level
    theory = theory_ms(a.algorithm)
    print()
    print(f"Like for like: mean response time (ms) over {len(seeds)} replications, "
          f"{level:.0%} CI by Student's t ({len(seeds) - 1} df)"
          + (f"; theory {theory:.3f} ms" if theory is not None else "; no closed-form theory for this algorithm"))
    failures = []
    rows = []
    stats = {}
    for sim in sims:
        xs = [r["mean_ms"] for r in runs[sim]]
        m, h, se = mean_ci(xs, level)
        stats[sim] = (m, h)
        ok = "—"
        if theory is not None:
            inside = m - h <= theory <= m + h
            ok = "yes" if inside else "NO"
            if not inside:
                failures.append(f"{names[sim]}: theory {theory:.3f} ms outside [{m - h:.3f}, {m + h:.3f}]")
        summary[sim].update({"mean_ms": m, "ci_half_ms": h, "replication_means_ms": xs})
        rows.append([names[sim], f"{m:.3f}", f"± {h:.3f}", f"[{m - h:.3f}, {m + h:.3f}]",
                     f"{statistics.stdev(xs):.3f}", f"{statistics.fmean(r['count'] for r in runs[sim]):,.0f}", ok])
    print_table(rows, ["simulator", "mean", "half-width", "CI", "sd", "count/run", "theory in CI"], "lrrlrrl")
    print()
    print(f"pairwise: difference of means with its {level:.0%} Welch CI (must contain 0)")
    for i, x in enumerate(sims):
        for y in sims[i + 1:]:
            diff, h = welch([r["mean_ms"] for r in runs[x]], [r["mean_ms"] for r in runs[y]], level)
            agree = abs(diff) <= h
            summary[f"diff_{x}_{y}"] = {"diff_ms": diff, "ci_half_ms": h, "agree": agree}
            print(f"  {names[x]} − {names[y]}: {diff:+.3f} ± {h:.3f} ms  {'agree' if agree else 'DISAGREE'}")
            if not agree:
                failures.append(f"{names[x]} and {names[y]} disagree: {diff:+.3f} ± {h:.3f} ms")
    n_checks = (len(sims) if theory is not None else 0) + len(sims) * (len(sims) - 1) // 2
    total = time.perf_counter() - started
    print()
    if failures:
        print("LIKE-FOR-LIKE CHECK FAILED:")
        for f_ in failures:
            print(f"  {f_}")
        print(f"(each of the {n_checks} comparisons misses by chance {1 - level:.0%} of the time: "
              "rerun with more --runs or other --seeds before concluding that a model differs)")
    else:
        print(f"Like-for-like check passed ({n_checks} comparison{'s' if n_checks != 1 else ''} at {level:.0%}).")
    print(f"Total time {total:.0f} s.")

    if a.json:
        with open(a.json, "w") as f:
            json.dump({"seeds": seeds, "duration_s": duration, "warmup_s": a.warmup, "algorithm": a.algorithm,
                       "machine": machine_description(), "lbsim_revision": revision, "runs": runs, "summary": summary,
                       "failures": failures, "total_s": total}, f, indent=2)
    return 1 if failures else 0


if __name__ == "__main__":
    try:
        sys.exit(main())
    except (RuntimeError, subprocess.CalledProcessError, OSError) as e:
        print(f"compare.py: {e}", file=sys.stderr)
        sys.exit(2)
