"""Execute notebooks headlessly with nbclient, failing on the first cell error.

    python notebooks/execute.py --out DIR NOTEBOOK...   # write executed copies into DIR (CI)
    python notebooks/execute.py --inplace NOTEBOOK...   # refresh the committed outputs

Each notebook runs with its own folder as the working directory (so `import lbsim_nb` works),
in the `python3` kernel, without per-cell timing metadata (so a refreshed notebook differs from
the committed one only where its outputs do). Small settings are the caller's choice:
`LBSIM_NOTEBOOK_SMALL=1` in the environment (as `.ci/notebooks.sh` sets it).
"""

import argparse
import sys
import time
from pathlib import Path

import nbformat
from nbclient import NotebookClient
from nbclient.exceptions import CellExecutionError


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    where = p.add_mutually_exclusive_group(required=True)
    where.add_argument("--out", type=Path, help="directory for the executed copies")
    where.add_argument("--inplace", action="store_true", help="overwrite the notebooks")
    p.add_argument("--timeout", type=int, default=900, help="seconds per cell (default 900)")
    p.add_argument("notebooks", nargs="+", type=Path)
    args = p.parse_args()

    for path in args.notebooks:
        start = time.monotonic()
        nb = nbformat.read(path, as_version=4)
        client = NotebookClient(
            nb,
            timeout=args.timeout,
            kernel_name="python3",
            record_timing=False,
            resources={"metadata": {"path": str(path.resolve().parent)}},
        )
        try:
            client.execute()
        except CellExecutionError as e:
            print(f"notebook {path}: a cell failed\n{e}", file=sys.stderr)
            return 1
        target = path if args.inplace else args.out / path.name
        target.parent.mkdir(parents=True, exist_ok=True)
        nbformat.write(nb, target)
        print(f"notebook {path}: executed without error in {time.monotonic() - start:.0f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
