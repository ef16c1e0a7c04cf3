#!/usr/bin/env bash
# CI step: a sweep on a real Slurm cluster equals the same sweep on one machine, byte for byte.
#
#   .ci/slurm/sweep-check.sh [LBSIM]        (as root; LBSIM defaults to target/release/lbsim)
#
# Starts a single-node Slurm cluster (.ci/slurm/start.sh), submits the README's example as it
# is (examples/slurm/submit.sh: a job array of 3 shards, `lbsim sweep --shard K/3`, and the
# merge job that depends on it with afterok), waits for both (with a time limit), runs the
# same sweep unsharded with `lbsim sweep`, and compares the two directories with `diff -r`:
# sweep.json, runs/*.json, sweep.csv, sweep_summary.csv and whatever else a sweep writes
# (plots, report). Stops the cluster however it ends. Exits non-zero on any failure or
# difference.
set -euo pipefail
cd "$(dirname "$0")/../.."
root=$PWD

LBSIM=$(realpath "${1:-target/release/lbsim}")
[ -x "$LBSIM" ] || { echo "error: no lbsim binary at $LBSIM (build it first)" >&2; exit 2; }

# The sweep: target tracking's CPU target 50 % vs 70 % on the bundled autoscaling scenario
# (3 simulated hours), 3 replications: 6 runs, 2 per shard. Seconds of CPU in all.
SCENARIO=$root/scenarios/autoscaling-cpu70.toml
VARY="services.web.auto_scaling.target_tracking.cpu70.target_value=50,70"
REPLICATIONS=3
SHARDS=3
TIMEOUT_S=${SWEEP_CHECK_TIMEOUT_S:-150}

export SLURM_CI_DIR=${SLURM_CI_DIR:-/tmp/lbsim-slurm}
export SLURM_CONF=$SLURM_CI_DIR/slurm.conf
work=$(mktemp -d /tmp/lbsim-sweep-check.XXXXXX)

cleanup() {
  local rc=$?
  "$root/.ci/slurm/stop.sh" || true
  if [ "$rc" -eq 0 ]; then
    rm -rf "$work"
  else
    echo "sweep-check FAILED (exit $rc); files kept in $work" >&2
  fi
  exit "$rc"
}
trap cleanup EXIT

show_logs() {
  echo "--- job logs" >&2
  tail -n 40 "$work"/cluster/logs/* >&2 2>/dev/null || true
  echo "--- Slurm logs" >&2
  tail -n 20 "$SLURM_CI_DIR"/*.log >&2 2>/dev/null || true
}

t0=$(date +%s)
"$root/.ci/slurm/start.sh"
t_up=$(date +%s)

# Submit the examples exactly as the README shows them.
ids=$(LBSIM=$LBSIM SCENARIO=$SCENARIO VARY=$VARY REPLICATIONS=$REPLICATIONS SHARDS=$SHARDS \
  SWEEP_DIR=$work/cluster "$root/examples/slurm/submit.sh")
array=$(sed -n 's/.*ARRAY_JOB=\([0-9]*\).*/\1/p' <<<"$ids")
merge=$(sed -n 's/.*MERGE_JOB=\([0-9]*\).*/\1/p' <<<"$ids")
if [ -z "$array" ] || [ -z "$merge" ]; then
  echo "error: submit.sh printed no job ids: $ids" >&2
  exit 1
fi

# Wait until neither job is queued or running.
deadline=$(($(date +%s) + TIMEOUT_S))
while [ -n "$(squeue -h -j "$array,$merge" 2>/dev/null)" ]; do
  if [ "$(date +%s)" -ge "$deadline" ]; then
    squeue -j "$array,$merge" >&2 || true
    show_logs
    echo "error: the sweep's jobs did not finish within ${TIMEOUT_S} s" >&2
    exit 1
  fi
  sleep 1
done
t_jobs=$(date +%s)

# Every array task and the merge job must have COMPLETED with exit code 0 (finished jobs
# stay in slurmctld's memory for MinJobAge, 300 s: no accounting database needed).
states=$(for j in "$array" "$merge"; do scontrol show job -o "$j" 2>/dev/null; done \
  | while read -r line; do
      echo "$(grep -oE '^JobId=[0-9]+' <<<"$line") $(grep -oE 'ArrayTaskId=[0-9]+ ' <<<"$line")$(grep -oE 'JobState=[A-Z_]+' <<<"$line") $(grep -oE ' ExitCode=[0-9]+:[0-9]+' <<<"$line" | tr -d ' ')"
    done)
echo "$states"
tasks_ok=$(grep -c "ArrayTaskId=.*JobState=COMPLETED ExitCode=0:0" <<<"$states" || true)
merge_ok=$(grep -c "^JobId=$merge JobState=COMPLETED ExitCode=0:0" <<<"$states" || true)
if [ "$tasks_ok" -ne "$SHARDS" ] || [ "$merge_ok" -ne 1 ]; then
  show_logs
  echo "error: expected $SHARDS completed array tasks and a completed merge job (above)" >&2
  exit 1
fi

# The same sweep on one machine, with the same scenario path (sweep.json records it).
vary=()
for v in $VARY; do vary+=(--vary "$v"); done
"$LBSIM" sweep "$SCENARIO" "${vary[@]}" --replications "$REPLICATIONS" --quiet --out "$work/single"
t_single=$(date +%s)

merged=$work/cluster/merged
for f in sweep.json sweep.csv sweep_summary.csv; do
  [ -s "$merged/$f" ] || { show_logs; echo "error: the merge job wrote no $merged/$f" >&2; exit 1; }
done
runs=$(find "$work/single/runs" -type f | wc -l)
expected_runs=$((2 * REPLICATIONS))
[ "$runs" -eq "$expected_runs" ] || { echo "error: $runs run files, expected $expected_runs" >&2; exit 1; }
if ! diff -r "$work/single" "$merged"; then
  echo "error: the merged sweep of $SHARDS Slurm shards differs from the one-machine sweep (diff above)" >&2
  exit 1
fi

nfiles=$(cd "$merged" && find . -type f | wc -l)
echo "OK: $SHARDS Slurm array tasks + the afterok merge job == one-machine lbsim sweep, byte for byte"
echo "    ($nfiles files compared: $(cd "$merged" && find . -maxdepth 1 -mindepth 1 -printf '%f\n' | sort | tr '\n' ' ')with $runs runs in runs/)"
(cd "$merged" && sha256sum sweep.csv sweep_summary.csv sweep.json)
echo "TIMINGS cluster start $((t_up - t0)) s, array + merge $((t_jobs - t_up)) s, one-machine sweep $((t_single - t_jobs)) s"
