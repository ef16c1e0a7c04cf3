#!/usr/bin/env bash
# The peer benchmark in one command: set up benches/peers/.venv with the pinned peers
# (requirements.txt), build lbsim in release mode, then run compare.py.
# Arguments go to compare.py, e.g.  benches/peers/run.sh --requests 200000 --runs 7
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
repo="$(cd "$here/../.." && pwd)"
venv="$here/.venv"

if [ ! -x "$venv/bin/python" ]; then
  echo "Creating $venv ..."
  python3 -m venv "$venv"
fi
"$venv/bin/python" -m pip install --quiet --disable-pip-version-check -r "$here/requirements.txt"

echo "Building lbsim (cargo build --release) ..."
(cd "$repo" && cargo build --release --quiet)

exec python3 "$here/compare.py" --no-build --python "$venv/bin/python" "$@"
