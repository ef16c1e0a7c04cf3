"""Small helpers shared by the notebooks in this folder: find and run the `lbsim` binary,
read its CSVs, and draw means with 95 % confidence bands.

Nothing here simulates: every number comes from `lbsim`'s own output files (see the
README's "Outputs" section and the sweep formats). Paths are kept relative to the
repository root so that a notebook's outputs do not show where it was run.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
from pathlib import Path

import pandas as pd

#: The repository root: the folder above this file's folder.
REPO = Path(__file__).resolve().parent.parent

#: True when the notebooks should run on small settings (CI): env LBSIM_NOTEBOOK_SMALL=1.
SMALL = os.environ.get("LBSIM_NOTEBOOK_SMALL", "") not in ("", "0", "false", "no")

# Student's t 97.5 % quantiles by degrees of freedom (1-30), the same CI as lbsim's
# sweep_summary.csv; above 30 the normal's 1.96 is within 2 %.
_T975 = [
    12.706, 4.303, 3.182, 2.776, 2.571, 2.447, 2.365, 2.306, 2.262, 2.228,
    2.201, 2.179, 2.160, 2.145, 2.131, 2.120, 2.110, 2.101, 2.093, 2.086,
    2.080, 2.074, 2.069, 2.064, 2.060, 2.056, 2.052, 2.048, 2.045, 2.042,
]


class LbsimError(RuntimeError):
    """An `lbsim` command failed: the message has the command and its stderr."""


def binary() -> str:
    """The `lbsim` binary: env `LBSIM`, else `target/release/lbsim` in this repository,
    else `lbsim` on the PATH. Raises `LbsimError` if none exists."""
    env = os.environ.get("LBSIM")
    if env:
        return env
    local = REPO / "target" / "release" / "lbsim"
    if local.exists():
        return str(local)
    found = shutil.which("lbsim")
    if found:
        return found
    raise LbsimError(
        "lbsim not found: build it with `cargo build --release` (target/release/lbsim), "
        "put it on the PATH (`cargo install --path .`) or set LBSIM=/path/to/lbsim"
    )


def lbsim(*args: str, show: bool = True) -> str:
    """Run `lbsim ARGS...` from the repository root (so relative paths in ARGS are the
    repository's) and return its standard output; print the command first when `show`.
    Raises `LbsimError` with the command's stderr if it exits with an error."""
    args = [str(a) for a in args]
    if show:
        print("$ lbsim " + " ".join(args))
    proc = subprocess.run(
        [binary(), *args], cwd=REPO, capture_output=True, text=True, check=False
    )
    if proc.returncode != 0:
        raise LbsimError(
            f"`lbsim {' '.join(args)}` exited with {proc.returncode}:\n{proc.stderr.strip()}"
        )
    return proc.stdout


def out(name: str) -> str:
    """An output directory for a notebook's runs, relative to the repository root:
    `target/notebooks/<name>`, or `target/notebooks/small/<name>` on small settings (a sweep
    resumes the runs already in its directory, so the two settings keep apart). `target/` is
    ignored by git."""
    return f"target/notebooks/small/{name}" if SMALL else f"target/notebooks/{name}"


def path(rel: str) -> Path:
    """The absolute path of a file named relative to the repository root."""
    return REPO / rel


def read_csv(rel: str) -> pd.DataFrame:
    """Read a CSV file named relative to the repository root."""
    return pd.read_csv(path(rel))


def read_json(rel: str) -> dict:
    """Read a JSON file named relative to the repository root."""
    with open(path(rel), encoding="utf-8") as f:
        return json.load(f)


_UNITS = {"ns": 1e-9, "us": 1e-6, "ms": 1e-3, "s": 1.0, "m": 60.0, "h": 3600.0, "d": 86400.0}


def seconds(text: str) -> float:
    """A duration as lbsim writes it (`30s`, `5m`, `1h 30m`, `250ms`) in seconds."""
    parts = re.findall(r"([0-9.]+)\s*(ns|us|ms|s|m|h|d)", str(text))
    if not parts:
        raise ValueError(f"not a duration: {text!r}")
    return sum(float(v) * _UNITS[u] for v, u in parts)


def t975(n: int) -> float:
    """Student's t 97.5 % quantile for a sample of `n` (n − 1 degrees of freedom)."""
    df = n - 1
    if df < 1:
        return float("nan")
    return _T975[df - 1] if df <= len(_T975) else 1.96


def mean_ci(values) -> tuple[float, float, float]:
    """Mean and Student's t 95 % confidence interval (low, high) of a sample, as lbsim's
    sweep_summary.csv computes them."""
    s = pd.Series(values, dtype=float).dropna()
    n = len(s)
    m = s.mean()
    if n < 2:
        return m, float("nan"), float("nan")
    h = t975(n) * s.std(ddof=1) / n**0.5
    return m, m - h, m + h


def summary_wide(sweep_dir: str, metrics: list[str]) -> pd.DataFrame:
    """`sweep_summary.csv` (long: one row per point and metric) for the given metrics, as
    one row per point and metric with columns mean, ci95_low, ci95_high, n."""
    s = read_csv(f"{sweep_dir}/sweep_summary.csv")
    return s[s["metric"].isin(metrics)].reset_index(drop=True)


def band(ax, x, df: pd.DataFrame, label: str | None = None, scale: float = 1.0,
         clip_zero: bool = False, **kw):
    """Plot `df`'s mean against `x` with its 95 % confidence band (ci95_low..ci95_high,
    multiplied by `scale`; cut at 0 when `clip_zero`, for counts and fractions, whose
    symmetric t interval can dip below 0)."""
    mean = df["mean"].to_numpy() * scale
    lo = df["ci95_low"].to_numpy() * scale
    hi = df["ci95_high"].to_numpy() * scale
    if clip_zero:
        lo = lo.clip(min=0)
    (line,) = ax.plot(x, mean, marker="o", label=label, **kw)
    ax.fill_between(x, lo, hi, alpha=0.25, color=line.get_color(), linewidth=0)
    return line
