#!/usr/bin/env python3
"""Peak resident memory of lbsim on the reference model, for growing numbers of requests.

Runs `lbsim run benches/reference.toml` (random routing, 1440 requests/s) for durations
that give about 10 million and 100 million requests, writing all three output files, and
reads each child's peak resident set size (ru_maxrss) with os.wait4. Memory must not grow
with the number of requests: metrics are streamed (per-interval histograms and counters),
nothing is kept per request.

Then the worst valid file the issue on hostile inputs found: the reference model offered
1e7 requests/s (7,000 times its capacity) for 366 days, forced past the work budget. The
in-flight limit (1,000,000 requests) must stop it, with exit code 1 and partial outputs,
under UNSTABLE_LIMIT_MIB.

Usage: python3 benches/memory.py [--requests 10e6 100e6] [--runs 3]
Builds the release binary first. Prints a table and exits 1 if the peak at the largest
count exceeds 64 MiB, or the unstable run's exceeds UNSTABLE_LIMIT_MIB.
"""

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time

RATE = 1440.0  # requests/s in benches/reference.toml
WARMUP_S = 10.0
LIMIT_MIB = 64.0
UNSTABLE_LIMIT_MIB = 400.0


def peak_rss_mib(cmd, expect=0):
    """Run cmd (which must exit with `expect`); return (peak RSS in MiB, wall seconds)."""
    t0 = time.perf_counter()
    p = subprocess.Popen(cmd, stdout=subprocess.DEVNULL)
    _, status, usage = os.wait4(p.pid, 0)
    wall = time.perf_counter() - t0
    if os.waitstatus_to_exitcode(status) != expect:
        sys.exit(f"command failed: {' '.join(cmd)}")
    return usage.ru_maxrss / 1024.0, wall  # Linux reports KiB


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--requests", nargs="+", type=float, default=[10e6, 100e6])
    ap.add_argument("--runs", type=int, default=3)
    args = ap.parse_args()
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    os.chdir(root)
    subprocess.run(["cargo", "build", "--release", "--quiet"], check=True)
    exe = os.path.join(root, "target", "release", "lbsim")
    rows = []
    with tempfile.TemporaryDirectory() as out:
        for n in args.requests:
            duration = WARMUP_S + n / RATE
            peaks, walls = [], []
            for _ in range(args.runs):
                cmd = [exe, "run", "benches/reference.toml", "--duration", f"{duration:.0f}s", "--out", out, "-q"]
                peak, wall = peak_rss_mib(cmd)
                peaks.append(peak)
                walls.append(wall)
            rows.append((n, duration, statistics.median(peaks), max(peaks), statistics.median(walls)))
    print(f"{'requests':>12} {'simulated':>12} {'peak RSS MiB (median)':>22} {'max':>8} {'wall s (median)':>16}")
    for n, d, med, mx, wall in rows:
        print(f"{n:>12,.0f} {d/3600:>10.1f} h {med:>22.1f} {mx:>8.1f} {wall:>16.2f}")
    worst = rows[-1][3]
    failed = False
    if worst > LIMIT_MIB:
        print(f"FAIL: peak {worst:.1f} MiB exceeds {LIMIT_MIB} MiB")
        failed = True
    else:
        print(f"ok: peak at {rows[-1][0]:,.0f} requests is {worst:.1f} MiB (limit {LIMIT_MIB} MiB)")
    with tempfile.TemporaryDirectory() as out:
        cmd = [exe, "run", "benches/reference.toml", "--set", "clients.0.arrivals.rate_rps=1e7",
               "--duration", "366d", "--force", "--out", out, "-q"]
        peaks = [peak_rss_mib(cmd, expect=1)[0] for _ in range(args.runs)]
    med, mx = statistics.median(peaks), max(peaks)
    print(f"unstable (1e7 requests/s for 366 days, stopped at the in-flight limit): "
          f"peak RSS {med:.1f} MiB median, {mx:.1f} max")
    if mx > UNSTABLE_LIMIT_MIB:
        print(f"FAIL: exceeds {UNSTABLE_LIMIT_MIB} MiB")
        failed = True
    else:
        print(f"ok: under {UNSTABLE_LIMIT_MIB} MiB")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
