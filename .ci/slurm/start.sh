#!/usr/bin/env bash
# Starts a single-node Slurm cluster on this machine, without systemd and without cgroups
# (a CI container or VM, as root): installs Debian's slurmctld, slurmd, slurm-client and munge,
# starts munged, writes a minimal slurm.conf, starts slurmctld and slurmd in the background and
# waits until the node is idle. About 30 s on a fresh machine, most of it apt.
#
# Usage: .ci/slurm/start.sh          then: export SLURM_CONF=/tmp/lbsim-slurm/slurm.conf
#        .ci/slurm/stop.sh           stops what this script started (by PID)
#
# Everything lives in $SLURM_CI_DIR (default /tmp/lbsim-slurm): slurm.conf, the state and
# spool directories, the daemons' logs and PID files. The configuration is NOT written to
# /etc/slurm: the clients and daemons find it through SLURM_CONF, so nothing else on the
# machine (e.g. a systemd unit that waits for /etc/slurm/slurm.conf) starts with it.
# A munged that already works (started by the package on a machine with an init system) is
# used as it is and left running by stop.sh.
set -euo pipefail

DIR=${SLURM_CI_DIR:-/tmp/lbsim-slurm}
export SLURM_CONF="$DIR/slurm.conf"

if [ "$(id -u)" -ne 0 ]; then
  echo "error: $0 must run as root (it installs packages and starts daemons)" >&2
  exit 1
fi

# 1. install. A fresh machine needs the package lists first, and lists that are too old name
#    versions the mirror no longer has: then update and try once more. policy-rc.d may forbid
#    the packages to start their services: that is fine, we start the daemons ourselves.
install_packages() {
  DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends \
    slurmctld slurmd slurm-client munge >>/tmp/lbsim-apt-slurm.log 2>&1
}
if ! command -v slurmctld >/dev/null || ! command -v slurmd >/dev/null \
   || ! command -v sbatch >/dev/null || ! command -v munged >/dev/null; then
  : >/tmp/lbsim-apt-slurm.log
  compgen -G '/var/lib/apt/lists/*_Packages*' >/dev/null || apt-get update -qq
  if ! install_packages; then
    apt-get update -qq
    if ! install_packages; then
      tail -n 30 /tmp/lbsim-apt-slurm.log >&2
      echo "error: apt-get install slurmctld slurmd slurm-client munge failed (log above)" >&2
      exit 1
    fi
  fi
fi

# A controller of ours still running? Then the ports are taken: say so instead of failing
# obscurely later.
for f in "$DIR/slurmctld.bgpid" "$DIR/slurmd.bgpid"; do
  if [ -s "$f" ] && kill -0 "$(cat "$f")" 2>/dev/null; then
    echo "error: a Slurm daemon started by this script is still running (PID $(cat "$f")); run .ci/slurm/stop.sh first" >&2
    exit 1
  fi
done

rm -rf "$DIR"
mkdir -p "$DIR/state" "$DIR/spool"

# 2. munge: the package's postinst creates /etc/munge/munge.key; create one if it is missing.
if munge -n 2>/dev/null | unmunge >/dev/null 2>&1; then
  echo "munged already running: using it"
else
  if [ ! -s /etc/munge/munge.key ]; then
    /usr/sbin/mungekey --create --force 2>/dev/null \
      || dd if=/dev/urandom of=/etc/munge/munge.key bs=1024 count=1 status=none
  fi
  chown munge:munge /etc/munge/munge.key
  chmod 400 /etc/munge/munge.key
  install -d -o munge -g munge -m 0755 /run/munge   # what systemd's RuntimeDirectory would do
  runuser -u munge -- /usr/sbin/munged               # forks; its PID in /run/munge/munged.pid
  echo started >"$DIR/munged.started"                # stop.sh stops only a munged we started
  munge -n | unmunge >/dev/null
fi

# 3. slurm.conf: one node (this machine, all its CPUs), one partition, no accounting, no
#    cgroups (proctrack/linuxproc, task/none): what a container allows.
H=$(hostname -s)
C=$(nproc)
cat >"$SLURM_CONF" <<EOF
ClusterName=lbsim-ci
SlurmctldHost=${H}(127.0.0.1)
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
MailProg=/bin/true
StateSaveLocation=${DIR}/state
SlurmdSpoolDir=${DIR}/spool
SlurmctldPidFile=${DIR}/slurmctld.pid
SlurmdPidFile=${DIR}/slurmd.pid
SlurmctldLogFile=${DIR}/slurmctld.log
SlurmdLogFile=${DIR}/slurmd.log
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
SchedulerType=sched/backfill
SelectType=select/cons_tres
SelectTypeParameters=CR_Core
MpiDefault=none
ReturnToService=2
KillWait=5
NodeName=${H} NodeAddr=127.0.0.1 CPUs=${C} State=UNKNOWN
PartitionName=debug Nodes=${H} Default=YES MaxTime=INFINITE State=UP
EOF

# 4. the daemons in foreground mode (-D), backgrounded here; their PIDs for stop.sh.
#    -c: slurmctld starts with a clean state (no jobs from an earlier cluster).
slurmctld -D -c -f "$SLURM_CONF" </dev/null >"$DIR/slurmctld.out" 2>&1 &
echo $! >"$DIR/slurmctld.bgpid"
slurmd -D -f "$SLURM_CONF" </dev/null >"$DIR/slurmd.out" 2>&1 &
echo $! >"$DIR/slurmd.bgpid"

for _ in $(seq 1 60); do
  sinfo -h -o '%t' 2>/dev/null | grep -qx idle && break
  sleep 0.5
done
if ! sinfo -h -o '%t' 2>/dev/null | grep -qx idle; then
  sinfo >&2 || true
  tail -n 30 "$DIR"/*.log "$DIR"/*.out >&2 || true
  echo "error: the Slurm node did not become idle within 30 s (logs above)" >&2
  exit 1
fi
sinfo
echo "Slurm is up: export SLURM_CONF=$SLURM_CONF (stop it with .ci/slurm/stop.sh)"
