#!/usr/bin/env bash
# Execute every notebook in notebooks/ headlessly, on small settings (LBSIM_NOTEBOOK_SMALL=1:
# fewer replications, shorter runs), so that they cannot rot. Each is executed into a temporary
# copy: the committed notebooks (with their full-settings outputs) are never rewritten. Any cell
# error fails the script.
#
# Needs python3 (3.11+) with venv, and the lbsim binary: $LBSIM, else target/release/lbsim
# (built here if missing). The virtual environment is target/notebooks-venv (reused if there).
set -euo pipefail
cd "$(dirname "$0")/.."

VENV="${NOTEBOOKS_VENV:-target/notebooks-venv}"
if [ ! -x "$VENV/bin/python" ]; then
  python3 -m venv "$VENV"
fi
"$VENV/bin/python" -m pip install --quiet --disable-pip-version-check -r notebooks/requirements.txt
# The notebooks' kernel is this environment's Python, whatever kernels the machine has.
"$VENV/bin/python" -m ipykernel install --prefix "$VENV" --name python3 >/dev/null
export JUPYTER_PATH="$PWD/$VENV/share/jupyter"

if [ -z "${LBSIM:-}" ]; then
  [ -x target/release/lbsim ] || cargo build --release
  export LBSIM="$PWD/target/release/lbsim"
fi
export LBSIM_NOTEBOOK_SMALL=1

OUT="$(mktemp -d)"
trap 'rm -rf "$OUT"' EXIT
count=0
for nb in notebooks/*.ipynb; do
  start=$SECONDS
  # Runs with notebooks/ as its working directory (lbsim_nb.py is imported from there).
  "$VENV/bin/jupyter" nbconvert --to notebook --execute "$nb" --output-dir "$OUT" \
    --ExecutePreprocessor.timeout=600 --log-level=WARN
  echo "notebook $nb: executed without error in $((SECONDS - start)) s"
  count=$((count + 1))
done
[ "$count" -gt 0 ] || { echo "no notebook found in notebooks/" >&2; exit 1; }
echo "notebooks: $count executed on small settings"
