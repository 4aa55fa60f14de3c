#!/usr/bin/env bash
# A real single-node Slurm cluster (munged + slurmctld + slurmd) on this machine,
# without systemd, for the Slurm tests and for trying the slurm/ batch scripts.
#
#   scripts/slurm-local.sh start    install if needed, start, wait until the node is idle
#   scripts/slurm-local.sh stop     kill the daemons by the PIDs in their pid files
#   scripts/slurm-local.sh status   exit 0 iff the cluster answers and the node is usable
#   scripts/slurm-local.sh env      print the export line the Slurm commands need
#
# The configuration lives in a scratch folder, never in /etc/slurm, so a real site
# configuration is not touched; Slurm commands find it through SLURM_CONF:
#   eval "$(scripts/slurm-local.sh env)"
#
# Environment:
#   SB_SLURM_DIR   scratch folder (config, state, spool, logs, pid files) [/tmp/sb-slurm]
#   SB_SLURM_CPUS  CPUs the node declares; more than the machine has lets -n 4..8 run
#                  on 2 cores (config_overrides accepts the lie)          [8]
#   SB_SLURM_PORT  slurmctld port; slurmd uses the next one                [6817]
#   SB_SLURM_WAIT  seconds to wait for the node to become idle             [60]
set -euo pipefail

DIR=${SB_SLURM_DIR:-/tmp/sb-slurm}
CPUS=${SB_SLURM_CPUS:-8}
PORT=${SB_SLURM_PORT:-6817}
WAIT=${SB_SLURM_WAIT:-60}
CONF="$DIR/slurm.conf"
NODE=$(hostname -s)
export SLURM_CONF="$CONF"

say() { echo "slurm-local: $*" >&2; }
die() { say "error: $*"; exit 1; }

# A pid from a pid file, printed only if that process is still alive.
live_pid() {
  local f=$1 pid
  [[ -s $f ]] || return 1
  pid=$(tr -dc '0-9' <"$f")
  [[ -n $pid ]] && kill -0 "$pid" 2>/dev/null && echo "$pid"
}

node_state() { sinfo -h -N -n "$NODE" -o %t 2>/dev/null | head -n1; }

have_binaries() {
  command -v slurmctld >/dev/null && command -v slurmd >/dev/null &&
    command -v sbatch >/dev/null && command -v munged >/dev/null
}

install_packages() {
  have_binaries && return 0
  [[ $(id -u) -eq 0 ]] || die "slurm-wlm/munge are not installed and installing them needs root"
  say "installing slurm-wlm munge"
  # Package scripts would start the daemons through init.d; a policy-rc.d that
  # answers 101 forbids that. One that is already there is left alone.
  local own_policy=0
  if [[ ! -e /usr/sbin/policy-rc.d ]]; then
    printf '#!/bin/sh\nexit 101\n' >/usr/sbin/policy-rc.d
    chmod 755 /usr/sbin/policy-rc.d
    own_policy=1
  fi
  local rc=0
  DEBIAN_FRONTEND=noninteractive apt-get install -y -q -o DPkg::Lock::Timeout=600 \
    --no-install-recommends slurm-wlm munge >"$DIR/log/apt.log" 2>&1 || rc=$?
  if [[ $rc -ne 0 ]]; then
    DEBIAN_FRONTEND=noninteractive apt-get update -q -o DPkg::Lock::Timeout=600 >>"$DIR/log/apt.log" 2>&1 &&
      DEBIAN_FRONTEND=noninteractive apt-get install -y -q -o DPkg::Lock::Timeout=600 \
        --no-install-recommends slurm-wlm munge >>"$DIR/log/apt.log" 2>&1 && rc=0
  fi
  [[ $own_policy -eq 1 ]] && rm -f /usr/sbin/policy-rc.d
  [[ $rc -eq 0 ]] || { tail -n 20 "$DIR/log/apt.log" >&2; die "apt-get install slurm-wlm munge failed (log: $DIR/log/apt.log)"; }
  have_binaries || die "slurm-wlm/munge installed but slurmctld, slurmd, sbatch or munged is missing"
}

conf_text() {
  cat <<EOF
# Written by scripts/slurm-local.sh: one node, root daemons, no cgroups, no accounting.
ClusterName=sblocal
SlurmctldHost=$NODE(127.0.0.1)
SlurmctldPort=$PORT
SlurmdPort=$((PORT + 1))
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
StateSaveLocation=$DIR/state
SlurmdSpoolDir=$DIR/spool
SlurmctldPidFile=$DIR/slurmctld.pid
SlurmdPidFile=$DIR/slurmd.pid
SlurmctldLogFile=$DIR/log/slurmctld.log
SlurmdLogFile=$DIR/log/slurmd.log
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
SelectType=select/cons_tres
SelectTypeParameters=CR_CPU
MpiDefault=pmix
SlurmdParameters=config_overrides
SwitchType=switch/none
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
JobCompType=jobcomp/none
MailProg=/bin/true
ReturnToService=2
InactiveLimit=0
KillWait=5
MinJobAge=4
SlurmdTimeout=60
NodeName=$NODE NodeAddr=127.0.0.1 CPUs=$CPUS State=UNKNOWN
PartitionName=local Nodes=$NODE Default=YES MaxTime=INFINITE State=UP
EOF
}
# MinJobAge=4 matters for speed: sbatch --wait sleeps 2 s between polls and
# quadruples the sleep (up to 32 s) while it is below MinJobAge/2, so with the
# usual ages a 10-second job was only seen finished after 42 s. At 4 the polls
# stay 2 s apart, still shorter than the 4 s a finished job's record is kept
# for sbatch to read its exit code.

conf_is_current() { [[ -f $CONF ]] && cmp -s <(conf_text) "$CONF"; }

munge_works() { munge -n </dev/null 2>/dev/null | unmunge >/dev/null 2>&1; }

start_munge() {
  if munge_works; then return 0; fi
  [[ -s /etc/munge/munge.key ]] || {
    say "creating /etc/munge/munge.key"
    if command -v mungekey >/dev/null; then mungekey --create --keyfile=/etc/munge/munge.key
    else dd if=/dev/urandom of=/etc/munge/munge.key bs=1024 count=1 status=none; fi
    chown munge:munge /etc/munge/munge.key; chmod 400 /etc/munge/munge.key
  }
  install -d -o munge -g munge -m 755 /run/munge
  install -d -o munge -g munge -m 700 /var/lib/munge /var/log/munge
  runuser -u munge -- /usr/sbin/munged
  local i
  for ((i = 0; i < 50; i++)); do
    munge_works && break
    sleep 0.1
  done
  munge_works || die "munged does not answer (see /var/log/munge/munged.log)"
  # Ours to stop: remember its pid next to the Slurm ones.
  cp /run/munge/munged.pid "$DIR/munged.pid"
}

wait_idle() {
  local i state=""
  for ((i = 0; i < WAIT * 5; i++)); do
    state=$(node_state || true)
    case $state in
      idle | mix | alloc) return 0 ;;
      drain* | down* | inval* | fail*)
        # A node left down by a killed previous run comes back once told so.
        scontrol update NodeName="$NODE" State=RESUME >/dev/null 2>&1 || true ;;
    esac
    sleep 0.2
  done
  say "node $NODE is '${state:-unknown}' after ${WAIT}s; last log lines:"
  tail -n 15 "$DIR/log/slurmctld.log" "$DIR/log/slurmd.log" >&2 2>/dev/null || true
  return 1
}

cmd_status() {
  live_pid "$DIR/slurmctld.pid" >/dev/null && live_pid "$DIR/slurmd.pid" >/dev/null || return 1
  case $(node_state || true) in idle | mix | alloc) return 0 ;; *) return 1 ;; esac
}

cmd_stop() {
  local name pid i alive pids=()
  # All at once: each daemon takes a second or two to wind down.
  for name in slurmd slurmctld munged; do
    if pid=$(live_pid "$DIR/$name.pid"); then
      say "stopping $name (pid $pid)"
      kill "$pid" 2>/dev/null || true
      pids+=("$pid")
    fi
    rm -f "$DIR/$name.pid"
  done
  for ((i = 0; i < 100; i++)); do
    alive=()
    for pid in "${pids[@]}"; do kill -0 "$pid" 2>/dev/null && alive+=("$pid"); done
    ((${#alive[@]} > 0)) || return 0
    sleep 0.1
  done
  say "pids ${alive[*]} ignore SIGTERM, sending SIGKILL"
  kill -9 "${alive[@]}" 2>/dev/null || true
}

cmd_start() {
  mkdir -p "$DIR/state" "$DIR/spool" "$DIR/log"
  if cmd_status; then
    if conf_is_current; then
      say "already running (SLURM_CONF=$CONF)"
      return 0
    fi
    say "the configuration changed: restarting slurmctld and slurmd"
  fi
  install_packages
  conf_text >"$CONF.tmp"
  mv "$CONF.tmp" "$CONF"
  start_munge
  # Half a cluster (one daemon died) is restarted whole rather than patched.
  local name pid
  for name in slurmd slurmctld; do
    if pid=$(live_pid "$DIR/$name.pid"); then
      kill "$pid" 2>/dev/null || true
      while kill -0 "$pid" 2>/dev/null; do sleep 0.1; done
    fi
    rm -f "$DIR/$name.pid"
  done
  # If start fails half-way, leave nothing running behind.
  trap 'cmd_stop' ERR
  slurmctld -i -f "$CONF" || die "slurmctld failed to start (log: $DIR/log/slurmctld.log)"
  slurmd -f "$CONF" -N "$NODE" || die "slurmd failed to start (log: $DIR/log/slurmd.log)"
  if ! wait_idle; then cmd_stop; die "the node never became idle"; fi
  # The node state may come from the saved state before slurmd has registered;
  # one tiny job step proves munge, slurmctld and slurmd all work together.
  if ! timeout "$WAIT" srun -n 1 -t 1 -J slurm-local-probe true; then
    tail -n 15 "$DIR/log/slurmctld.log" "$DIR/log/slurmd.log" >&2 2>/dev/null || true
    cmd_stop
    die "a one-task probe job did not run"
  fi
  trap - ERR
  say "running: node $NODE, $CPUS CPUs (SLURM_CONF=$CONF)"
}

case ${1:-} in
  start) cmd_start ;;
  stop) cmd_stop ;;
  status) cmd_status ;;
  env) echo "export SLURM_CONF=$CONF" ;;
  *) echo "usage: $0 start|stop|status|env  (scratch folder: \$SB_SLURM_DIR, now $DIR)" >&2; exit 2 ;;
esac
