#!/usr/bin/env bash
# Submits an lbsim sweep to Slurm: a job array of N shards (sweep.sbatch), then the merge job
# (merge.sbatch), which starts only when every shard succeeded (--dependency=afterok).
#
#   LBSIM=$(command -v lbsim) SCENARIO=scenarios/autoscaling-cpu70.toml \
#   VARY="services.web.auto_scaling.target_tracking.cpu70.target_value=50,60,70" \
#   REPLICATIONS=10 SHARDS=4 SWEEP_DIR=out/cpu-target-sweep \
#     examples/slurm/submit.sh
#
# Environment:
#   LBSIM         the lbsim binary [default: lbsim on the PATH]
#   SCENARIO      the scenario file (required)
#   VARY          the --vary arguments separated by spaces: "PATH=V1,V2 PATH2=1..4"
#   REPLICATIONS  replications per point [default: 10]
#   SHARDS        N, the number of array tasks [default: 4]
#   SWEEP_DIR     output directory (required): shards in shard-0 .. shard-(N-1), the merged
#                 sweep in merged/, the jobs' logs in logs/. Must be on a file system every
#                 node sees.
#   SWEEP_ARGS    more arguments for lbsim sweep, e.g. "--duration 2h"
#   SBATCH_ARGS   more arguments for both sbatch calls, e.g. "--partition=batch --account=me"
# Paths are made absolute here, since the jobs may start in another directory.
#
# Prints what it submitted on stderr and, on stdout, one line for scripts:
#   ARRAY_JOB=<id> MERGE_JOB=<id>
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)

: "${SCENARIO:?set SCENARIO to the scenario file}"
: "${SWEEP_DIR:?set SWEEP_DIR to the output directory}"
SHARDS=${SHARDS:-4}
case $SHARDS in
  '' | *[!0-9]* | 0) echo "error: SHARDS=$SHARDS: expected a positive whole number" >&2; exit 2 ;;
esac

LBSIM=$(command -v "${LBSIM:-lbsim}") || { echo "error: no lbsim binary at ${LBSIM:-lbsim} (set LBSIM)" >&2; exit 2; }
LBSIM=$(realpath "$LBSIM")
[ -f "$SCENARIO" ] || { echo "error: SCENARIO=$SCENARIO: no such file" >&2; exit 2; }
SCENARIO=$(realpath "$SCENARIO")
mkdir -p "$SWEEP_DIR/logs"
SWEEP_DIR=$(realpath "$SWEEP_DIR")
export LBSIM SCENARIO SHARDS SWEEP_DIR VARY="${VARY:-}" REPLICATIONS="${REPLICATIONS:-10}" \
  SWEEP_ARGS="${SWEEP_ARGS:-}"

# shellcheck disable=SC2206 # a list of words on purpose
more=(${SBATCH_ARGS:-})

array=$(sbatch --parsable --export=ALL "${more[@]}" \
  --array="0-$((SHARDS - 1))" \
  --output="$SWEEP_DIR/logs/sweep-%A_%a.out" \
  "$here/sweep.sbatch")
array=${array%%;*}   # --parsable prints "id" or "id;cluster"

merge=$(sbatch --parsable --export=ALL "${more[@]}" \
  --dependency="afterok:$array" --kill-on-invalid-dep=yes \
  --output="$SWEEP_DIR/logs/merge-%j.out" \
  "$here/merge.sbatch")
merge=${merge%%;*}

{
  echo "Submitted job array $array: $SHARDS shards of $LBSIM sweep $SCENARIO ($VARY) into $SWEEP_DIR/shard-*"
  echo "Submitted merge job $merge: starts when every task of $array succeeded; writes $SWEEP_DIR/merged"
  echo "Logs in $SWEEP_DIR/logs/; watch with: squeue -j $array,$merge"
} >&2
echo "ARRAY_JOB=$array MERGE_JOB=$merge"
