#!/usr/bin/env bash
# Execute every notebook in notebooks/ headlessly, on small settings (LBSIM_NOTEBOOK_SMALL=1:
# fewer replications, shorter runs), so that they cannot rot. Each is executed into a temporary
# copy: the committed notebooks (with their full-settings outputs) are never rewritten. Any cell
# error fails the script.
#
# Needs python3 (3.11+) with venv, and the lbsim binary: $LBSIM, else target/release/lbsim
# (built here if missing). The packages of notebooks/requirements.txt go into a virtual
# environment kept between runs under ~/.cache/lbsim (one per version of requirements.txt;
# NOTEBOOKS_VENV=DIR to choose another), since installing them takes minutes.
set -euo pipefail
cd "$(dirname "$0")/.."

req_hash="$(sha256sum notebooks/requirements.txt | cut -c1-16)"
VENV="${NOTEBOOKS_VENV:-${XDG_CACHE_HOME:-$HOME/.cache}/lbsim/notebooks-venv-$req_hash}"
if [ ! -f "$VENV/.installed" ]; then
  echo "installing notebooks/requirements.txt into $VENV"
  [ -x "$VENV/bin/python" ] || python3 -m venv "$VENV"
  "$VENV/bin/python" -m pip install --quiet --disable-pip-version-check -r notebooks/requirements.txt
  touch "$VENV/.installed"
fi
# The notebooks' kernel is this environment's Python, whatever kernels the machine has.
"$VENV/bin/python" -m ipykernel install --prefix "$VENV" --name python3 >/dev/null
export JUPYTER_PATH="$VENV/share/jupyter"

if [ -z "${LBSIM:-}" ]; then
  [ -x target/release/lbsim ] || cargo build --release
  export LBSIM="$PWD/target/release/lbsim"
fi
export LBSIM_NOTEBOOK_SMALL=1

shopt -s nullglob
notebooks=(notebooks/*.ipynb)
[ "${#notebooks[@]}" -gt 0 ] || { echo "no notebook found in notebooks/" >&2; exit 1; }
OUT="$(mktemp -d)"
trap 'rm -rf "$OUT"' EXIT
"$VENV/bin/python" notebooks/execute.py --out "$OUT" "${notebooks[@]}"
echo "notebooks: ${#notebooks[@]} executed on small settings"
