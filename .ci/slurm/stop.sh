#!/usr/bin/env bash
# Stops the single-node Slurm cluster started by .ci/slurm/start.sh: cancels any job still
# there, `scontrol shutdown` (slurmctld tells slurmd to stop too), then waits for each daemon
# by the PID start.sh recorded, escalating to SIGTERM and SIGKILL by PID if one remains. Stops munged only if
# start.sh started it. Never kills by name. Safe to call twice or when nothing runs.
set -uo pipefail

DIR=${SLURM_CI_DIR:-/tmp/lbsim-slurm}
export SLURM_CONF="$DIR/slurm.conf"

alive() { [ -n "$1" ] && kill -0 "$1" 2>/dev/null; }

# Give a PID up to $2 quarter-seconds to exit; true when it is gone.
gone_within() {
  local p=$1 n=$2
  for _ in $(seq 1 "$n"); do
    alive "$p" || return 0
    sleep 0.25
  done
  ! alive "$p"
}

pids=()
for f in "$DIR/slurmctld.bgpid" "$DIR/slurmd.bgpid"; do
  [ -s "$f" ] && pids+=("$(cat "$f")")
done

if [ -f "$SLURM_CONF" ] && command -v scontrol >/dev/null; then
  # Jobs still queued or running (a timeout, an interrupted check) are cancelled first:
  # `scontrol shutdown` alone would leave their slurmstepd processes behind.
  jobs=$(squeue -h -o %A 2>/dev/null | sort -u | tr '\n' ' ')
  if [ -n "${jobs// /}" ]; then
    # shellcheck disable=SC2086 # a list of job ids
    scancel $jobs 2>/dev/null || true
    for _ in $(seq 1 60); do
      [ -z "$(squeue -h 2>/dev/null)" ] && break
      sleep 0.25
    done
    # slurmd reports a job done when its processes are gone; give the steps a moment more.
    sleep 1
  fi
  scontrol shutdown >/dev/null 2>&1 || true
fi
for p in "${pids[@]}"; do
  gone_within "$p" 40 && continue
  kill -TERM "$p" 2>/dev/null || true
  gone_within "$p" 20 && continue
  kill -KILL "$p" 2>/dev/null || true
done
rm -f "$DIR/slurmctld.bgpid" "$DIR/slurmd.bgpid"

if [ -f "$DIR/munged.started" ]; then
  runuser -u munge -- /usr/sbin/munged --stop >/dev/null 2>&1 \
    || { [ -s /run/munge/munged.pid ] && kill -TERM "$(cat /run/munge/munged.pid)" 2>/dev/null; } \
    || true
  rm -f "$DIR/munged.started"
fi
echo "Slurm stopped"
