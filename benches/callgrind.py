#!/usr/bin/env python3
"""Instructions per simulated request, counted by callgrind (repeatable on a noisy machine).

For each configuration, runs `lbsim run` under `valgrind --tool=callgrind` twice, for a short
and a long simulated duration, and divides the difference in instructions by the difference
in requests: start-up, parsing and file set-up cancel out, what is left is the cost of one
more request (simulation, metrics and streamed CSV rows included).

Configurations: the reference model (benches/reference.toml) with each routing algorithm,
and the bundled NASA scenario (a trace, log-normal sizes, processor sharing). Both run lengths
end after the first metrics interval past the warm-up, so the difference is steady state
(the recorder records a latency once per interval histogram from then on).

Usage: python3 benches/callgrind.py [--lbsim target/release/lbsim] [--only reference/random]
Needs valgrind. Prints a CSV table: config,requests,instructions,instructions_per_request.
"""

import argparse
import json
import os
import re
import subprocess
import sys
import tempfile

CONFIGS = {
    # name: (scenario, extra args, short duration, long duration)
    "reference/round_robin": ("benches/reference.toml", ["--set", "target_groups.0.algorithm=round_robin"], "120s", "420s"),
    "reference/least_outstanding_requests": ("benches/reference.toml", ["--set", "target_groups.0.algorithm=least_outstanding_requests"], "120s", "420s"),
    "reference/random": ("benches/reference.toml", ["--set", "target_groups.0.algorithm=random"], "120s", "420s"),
    "reference/weighted_random": ("benches/reference.toml", ["--set", "target_groups.0.algorithm=weighted_random"], "120s", "420s"),
    "reference/power_of_two_choices": ("benches/reference.toml", ["--set", "target_groups.0.algorithm=power_of_two_choices"], "120s", "420s"),
    "nasa_jul95": ("scenarios/nasa-jul95.toml", [], "2h", "8h"),
}


def count(lbsim, scenario, extra, duration):
    """Instructions and requests of one run under callgrind."""
    with tempfile.TemporaryDirectory() as d:
        out = os.path.join(d, "cg.out")
        cmd = [
            "valgrind", "--tool=callgrind", f"--callgrind-out-file={out}",
            lbsim, "run", scenario, *extra, "--duration", duration,
            "--out", os.path.join(d, "o"), "-q",
        ]
        subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        with open(out) as f:
            text = f.read()
        m = re.search(r"^summary:\s+(\d+)", text, re.M) or re.search(r"^totals:\s+(\d+)", text, re.M)
        instructions = int(m.group(1))
        with open(os.path.join(d, "o", "summary.json")) as f:
            requests = json.load(f)["requests"]["arrived"]
    return instructions, requests


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--lbsim", default="target/release/lbsim")
    ap.add_argument("--only", nargs="*", help="configurations to run (default: all)")
    a = ap.parse_args()
    names = a.only or list(CONFIGS)
    print("config,requests,instructions,instructions_per_request")
    for name in names:
        scenario, extra, short, long = CONFIGS[name]
        i0, n0 = count(a.lbsim, scenario, extra, short)
        i1, n1 = count(a.lbsim, scenario, extra, long)
        print(f"{name},{n1 - n0},{i1 - i0},{(i1 - i0) / (n1 - n0):.1f}", flush=True)


if __name__ == "__main__":
    sys.exit(main())
