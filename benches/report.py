#!/usr/bin/env python3
"""Summarise the last `cargo bench --bench engine` run from criterion's files.

For each benchmark, prints the median time per iteration over criterion's samples (each
sample is the mean of several iterations) and the simulated requests per wall-second it
implies. Usage: python3 benches/report.py [target/criterion]
"""

import json
import pathlib
import sys


def main():
    root = pathlib.Path(sys.argv[1] if len(sys.argv) > 1 else "target/criterion")
    rows = []
    for bench in sorted(root.glob("**/new/benchmark.json")):
        meta = json.loads(bench.read_text())
        est = json.loads((bench.parent / "estimates.json").read_text())
        sample = json.loads((bench.parent / "sample.json").read_text())
        elements = (meta.get("throughput") or {}).get("Elements")
        median_ns = est["median"]["point_estimate"]
        samples = len(sample["iters"])
        iterations = int(sum(sample["iters"]))
        rate = elements / (median_ns / 1e9) / 1e6 if elements else float("nan")
        rows.append((meta["full_id"], median_ns / 1e6, elements or 0, rate, samples, iterations))
    if not rows:
        sys.exit(f"no criterion results under {root}; run: cargo bench --bench engine")
    print(f"| benchmark | median time per run | requests per run | median M requests/s | samples (runs) |")
    print("|---|---:|---:|---:|---:|")
    for name, ms, n, rate, samples, iters in rows:
        print(f"| `{name}` | {ms:.1f} ms | {n:,} | {rate:.2f} | {samples} ({iters}) |")


if __name__ == "__main__":
    main()
