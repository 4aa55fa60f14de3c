#!/usr/bin/env bash
# A real Slurm cluster on this machine, without systemd, for the Slurm tests and for
# trying the slurm/ batch scripts: one node (the default), or several nodes, each
# in its own network and UTS namespace (SB_SLURM_NODES=3).
#
#   scripts/slurm-local.sh start    install if needed, start, wait until every node is idle
#   scripts/slurm-local.sh stop     stop the daemons (by the PIDs in their pid files) and,
#                                   for several nodes, every process left in a node and
#                                   the node network; safe to repeat
#   scripts/slurm-local.sh status   exit 0 iff the cluster answers and every node is usable
#   scripts/slurm-local.sh env      print the export line the Slurm commands need
#   scripts/slurm-local.sh pids     the PIDs of the daemons that are alive, one a line
#   scripts/slurm-local.sh job ID   state, exit code, nodes and resources of job ID, also
#                                   long after it ended (there is no accounting for sacct:
#                                   finished jobs are kept in $DIR/log/jobcomp.log)
#
# One node: slurmctld and slurmd on this host, node name = this host's short name,
# NodeAddr 127.0.0.1.
# Several nodes (SB_SLURM_NODES=N, N >= 2): nodes sbnode1..N, each a network namespace
# (ip netns) joined to a bridge by a veth pair, with its own address on the bridge's
# subnet and its own hostname (a UTS namespace), running its own slurmd; slurmctld
# runs on the host at the bridge's address. The mount namespace is shared: /tmp is
# the cluster's "parallel file system", and munged's socket (in the scratch folder)
# serves every node. MPI between nodes must go over TCP on the bridge: shared memory
# cannot reach a process that reports another host.
#
# The configuration lives in a scratch folder, never in /etc/slurm, so a real site
# configuration is not touched; Slurm commands find it through SLURM_CONF:
#   eval "$(scripts/slurm-local.sh env)"
# munged is a private instance too (its socket in the scratch folder, slurm.conf's
# AuthInfo points at it), so two of these clusters never stop each other's munged.
#
# Environment:
#   SB_SLURM_NODES   number of nodes                                            [1]
#   SB_SLURM_DIR     scratch folder (config, state, spool, logs, pid files)
#                                      [/tmp/sb-slurm; /tmp/sb-slurm-cluster for N >= 2]
#   SB_SLURM_CPUS    CPUs each node declares; more than the machine has lets several
#                    tasks run on 2 cores (config_overrides accepts the lie) [8; 4 for N >= 2]
#   SB_SLURM_MEM_MB  memory each node declares (RealMemory), MiB
#                                          [this machine's memory, divided among the nodes]
#   SB_SLURM_PORT    slurmctld port; slurmd uses the next one            [6817; 6837 for N >= 2]
#   SB_SLURM_SUBNET  first three octets of the nodes' /24 (N >= 2): host .1, node i .(10+i)
#                                                                             [10.77.0]
#   SB_SLURM_WAIT    seconds to wait for the nodes to become idle                    [60]
set -euo pipefail

NODES=${SB_SLURM_NODES:-1}
[[ $NODES =~ ^[1-9][0-9]?$ ]] || { echo "slurm-local: error: SB_SLURM_NODES must be 1..99, got '$NODES'" >&2; exit 2; }
if ((NODES == 1)); then
  DIR=${SB_SLURM_DIR:-/tmp/sb-slurm}
  CPUS=${SB_SLURM_CPUS:-8}
  PORT=${SB_SLURM_PORT:-6817}
else
  DIR=${SB_SLURM_DIR:-/tmp/sb-slurm-cluster}
  CPUS=${SB_SLURM_CPUS:-4}
  PORT=${SB_SLURM_PORT:-6837}
fi
WAIT=${SB_SLURM_WAIT:-60}
SUBNET=${SB_SLURM_SUBNET:-10.77.0}
CONF="$DIR/slurm.conf"
MUNGE_SOCKET="$DIR/munge/munge.socket"
HOST=$(hostname -s)
BRIDGE=sbslurm0
export SLURM_CONF="$CONF"

say() { echo "slurm-local: $*" >&2; }
die() { say "error: $*"; exit 1; }

# Node names and addresses.
node_names=()
if ((NODES == 1)); then
  node_names=("$HOST")
else
  for ((i = 1; i <= NODES; i++)); do node_names+=("sbnode$i"); done
fi
node_addr() { if ((NODES == 1)); then echo 127.0.0.1; else echo "$SUBNET.$((10 + ${1#sbnode}))"; fi; }
CTL_ADDR=$( ((NODES == 1)) && echo 127.0.0.1 || echo "$SUBNET.1")

mem_mb() {
  if [[ -n ${SB_SLURM_MEM_MB:-} ]]; then echo "$SB_SLURM_MEM_MB"; return; fi
  local kib
  kib=$(awk '/^MemTotal:/ {print $2}' /proc/meminfo)
  echo $((kib / 1024 / NODES))
}

# A pid from a pid file, printed only if that process is still alive.
live_pid() {
  local f=$1 pid
  [[ -s $f ]] || return 1
  pid=$(tr -dc '0-9' <"$f")
  [[ -n $pid ]] && kill -0 "$pid" 2>/dev/null && echo "$pid"
}

slurmd_pidfile() { echo "$DIR/slurmd-$1.pid"; }

node_state() { sinfo -h -N -n "$1" -o %t 2>/dev/null | head -n1; }

have_binaries() {
  command -v slurmctld >/dev/null && command -v slurmd >/dev/null &&
    command -v sbatch >/dev/null && command -v munged >/dev/null &&
    { ((NODES == 1)) || { command -v ip && command -v nsenter && command -v unshare; } >/dev/null; }
}

install_packages() {
  have_binaries && return 0
  [[ $(id -u) -eq 0 ]] || die "slurm-wlm/munge are not installed and installing them needs root"
  local pkgs=(slurm-wlm munge)
  ((NODES == 1)) || pkgs+=(iproute2)
  say "installing ${pkgs[*]}"
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
    --no-install-recommends "${pkgs[@]}" >"$DIR/log/apt.log" 2>&1 || rc=$?
  if [[ $rc -ne 0 ]]; then
    DEBIAN_FRONTEND=noninteractive apt-get update -q -o DPkg::Lock::Timeout=600 >>"$DIR/log/apt.log" 2>&1 &&
      DEBIAN_FRONTEND=noninteractive apt-get install -y -q -o DPkg::Lock::Timeout=600 \
        --no-install-recommends "${pkgs[@]}" >>"$DIR/log/apt.log" 2>&1 && rc=0
  fi
  [[ $own_policy -eq 1 ]] && rm -f /usr/sbin/policy-rc.d
  [[ $rc -eq 0 ]] || { tail -n 20 "$DIR/log/apt.log" >&2; die "apt-get install ${pkgs[*]} failed (log: $DIR/log/apt.log)"; }
  have_binaries || die "${pkgs[*]} installed but slurmctld, slurmd, sbatch, munged, ip, nsenter or unshare is missing"
}

conf_text() {
  local n mem
  mem=$(mem_mb)
  cat <<EOF
# Written by scripts/slurm-local.sh: $NODES node(s), root daemons, no cgroups, no accounting.
ClusterName=$( ((NODES == 1)) && echo sblocal || echo sbcluster)
SlurmctldHost=$HOST($CTL_ADDR)
SlurmctldPort=$PORT
SlurmdPort=$((PORT + 1))
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
AuthInfo=socket=$MUNGE_SOCKET
StateSaveLocation=$DIR/state
SlurmdSpoolDir=$DIR/spool/%n
SlurmctldPidFile=$DIR/slurmctld.pid
SlurmdPidFile=$DIR/slurmd-%n.pid
SlurmctldLogFile=$DIR/log/slurmctld.log
SlurmdLogFile=$DIR/log/slurmd-%n.log
TmpFS=$DIR/tmp/%n
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
SelectType=select/cons_tres
SelectTypeParameters=CR_CPU
MpiDefault=none
SlurmdParameters=config_overrides
SwitchType=switch/none
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
JobCompType=jobcomp/filetxt
JobCompLoc=$DIR/log/jobcomp.log
MailProg=/bin/true
ReturnToService=2
InactiveLimit=0
KillWait=5
MinJobAge=4
SlurmdTimeout=60
EOF
  for n in "${node_names[@]}"; do
    echo "NodeName=$n NodeAddr=$(node_addr "$n") CPUs=$CPUS RealMemory=$mem State=UNKNOWN"
  done
  local IFS=,
  echo "PartitionName=local Nodes=${node_names[*]} Default=YES MaxTime=INFINITE State=UP"
}
# MinJobAge=4 matters for speed: sbatch --wait sleeps 2 s between polls and
# quadruples the sleep (up to 32 s) while it is below MinJobAge/2, so with the
# usual ages a 10-second job was only seen finished after 42 s. At 4 the polls
# stay 2 s apart, still shorter than the 4 s a finished job's record is kept
# for sbatch to read its exit code. A finished job's state and exit code stay
# in $DIR/log/jobcomp.log (JobCompType=jobcomp/filetxt), since there is no
# accounting database for sacct.
# TmpFS per node: the nodes share /tmp, where srun --mpi=pmix would make the
# same spmix_appdir_<uid>_<job>.<step> folder on every node (and fail on all
# but one).
# MpiDefault=none: srun starts no MPI support unless told (--mpi=pmix), as on
# many sites, so a script that forgets to choose fails here too.

# mpi.conf (beside slurm.conf): the PMIx plugin's fences all use the tree algorithm.
# By default Slurm 22.05 runs a fence that carries data (Open MPI's modex in
# MPI_Init) as a ring. Here, 3 nodes on two shared cores, 24 of 151 srun --mpi=pmix
# launches of Open MPI 4.1.4 at 2 tasks per node then died in MPI_Init (a segfault
# in the TCP BTL's receive handler: a message for a layer not set up yet) or hung;
# with the tree, 2 of about 250 did (mpirun inside the allocation: none of 170).
mpi_conf_text() {
  echo "# Written by scripts/slurm-local.sh: see mpi_conf_text there."
  echo "PMIxCollFence=tree"
}

conf_is_current() {
  [[ -f $CONF ]] && cmp -s <(conf_text) "$CONF" && cmp -s <(mpi_conf_text) "$DIR/mpi.conf"
}

munge_works() { munge -S "$MUNGE_SOCKET" -n </dev/null 2>/dev/null | unmunge -S "$MUNGE_SOCKET" >/dev/null 2>&1; }

# A munged of our own: its socket, pid, log and seed in $DIR/munge, the machine's key.
start_munge() {
  if munge_works; then return 0; fi
  [[ -s /etc/munge/munge.key ]] || {
    say "creating /etc/munge/munge.key"
    if command -v mungekey >/dev/null; then mungekey --create --keyfile=/etc/munge/munge.key
    else dd if=/dev/urandom of=/etc/munge/munge.key bs=1024 count=1 status=none; fi
    chown munge:munge /etc/munge/munge.key; chmod 400 /etc/munge/munge.key
  }
  local pid i
  if pid=$(live_pid "$DIR/munged.pid"); then kill "$pid" 2>/dev/null || true; sleep 0.2; fi
  install -d -o munge -g munge -m 755 "$DIR/munge"
  rm -f "$MUNGE_SOCKET" "$MUNGE_SOCKET.lock"
  runuser -u munge -- /usr/sbin/munged --socket="$MUNGE_SOCKET" --pid-file="$DIR/munge/munged.pid" \
    --log-file="$DIR/munge/munged.log" --seed-file="$DIR/munge/munged.seed" ||
    die "munged failed to start (log: $DIR/munge/munged.log)"
  for ((i = 0; i < 50; i++)); do
    munge_works && break
    sleep 0.1
  done
  munge_works || die "munged does not answer on $MUNGE_SOCKET (log: $DIR/munge/munged.log)"
  cp "$DIR/munge/munged.pid" "$DIR/munged.pid"
}

# --- the node network (several nodes only) ---
# Names of what start made, one a line "kind name", so that stop removes exactly those.
NETFILE="$DIR/network"

net_down() {
  [[ -f $NETFILE ]] || return 0
  local kind name pids
  # Every process still inside a node (job steps, tasks, a slurmd that ignored
  # SIGTERM): they are the cluster's, and die with it.
  while read -r kind name; do
    [[ $kind == netns ]] || continue
    pids=$(ip netns pids "$name" 2>/dev/null || true)
    if [[ -n $pids ]]; then
      say "killing the processes left in node $name: ${pids//$'\n'/ }"
      # shellcheck disable=SC2086
      kill -9 $pids 2>/dev/null || true
    fi
  done <"$NETFILE"
  while read -r kind name; do
    case $kind in
      netns) ip netns del "$name" 2>/dev/null || true ;;
      link) ip link del "$name" 2>/dev/null || true ;;
    esac
  done < <(tac "$NETFILE")
  rm -f "$NETFILE"
}

net_up() {
  command -v ip >/dev/null || die "ip (iproute2) is needed for a cluster of several nodes"
  [[ $(id -u) -eq 0 ]] || die "creating network namespaces needs root"
  net_down
  if ip link show "$BRIDGE" >/dev/null 2>&1; then
    die "a network interface $BRIDGE exists that this script did not record: remove it (ip link del $BRIDGE) or stop the cluster that made it"
  fi
  local other
  other=$(ip -4 route show to match "$SUBNET.1" | grep -v '^default' || true)
  [[ -z $other ]] || die "$SUBNET.0/24 is already routed here ($other): choose another SB_SLURM_SUBNET"
  : >"$NETFILE"
  ip link add "$BRIDGE" type bridge
  echo "link $BRIDGE" >>"$NETFILE"
  ip addr add "$SUBNET.1/24" dev "$BRIDGE"
  ip link set "$BRIDGE" up
  local n
  for n in "${node_names[@]}"; do
    ip netns add "$n"
    echo "netns $n" >>"$NETFILE"
    ip link add "$n-v" type veth peer name eth0 netns "$n"
    echo "link $n-v" >>"$NETFILE"
    ip link set "$n-v" master "$BRIDGE" up
    ip -n "$n" addr add "$(node_addr "$n")/24" dev eth0
    ip -n "$n" link set lo up
    ip -n "$n" link set eth0 up
  done
}

# Run a command inside node $1: its network namespace, a UTS namespace of its own
# named after it; mounts (and so /tmp and munged's socket) stay shared.
in_node() {
  local n=$1
  shift
  # shellcheck disable=SC2016 # $0 and $@ belong to the inner shell
  nsenter --net="/run/netns/$n" -- unshare --uts -- /bin/sh -c \
    'echo "$0" >/proc/sys/kernel/hostname && exec "$@"' "$n" "$@"
}

all_idle() {
  local n state
  for n in "${node_names[@]}"; do
    state=$(node_state "$n" || true)
    case $state in idle | mix | alloc) ;; *) return 1 ;; esac
  done
}

wait_idle() {
  local i n state
  for ((i = 0; i < WAIT * 5; i++)); do
    all_idle && return 0
    for n in "${node_names[@]}"; do
      state=$(node_state "$n" || true)
      case $state in
        drain* | down* | inval* | fail*)
          # A node left down by a killed previous run comes back once told so.
          scontrol update NodeName="$n" State=RESUME >/dev/null 2>&1 || true ;;
      esac
    done
    sleep 0.2
  done
  say "nodes not idle after ${WAIT}s: $(sinfo -h -N -o '%N=%t' 2>/dev/null | tr '\n' ' '); last log lines:"
  tail -n 15 "$DIR/log/slurmctld.log" "$DIR"/log/slurmd-*.log >&2 2>/dev/null || true
  return 1
}

daemons_alive() {
  local n
  live_pid "$DIR/slurmctld.pid" >/dev/null || return 1
  for n in "${node_names[@]}"; do live_pid "$(slurmd_pidfile "$n")" >/dev/null || return 1; done
}

cmd_status() {
  daemons_alive && all_idle
}

cmd_pids() {
  local f pid
  for f in "$DIR"/slurmctld.pid "$DIR"/slurmd-*.pid "$DIR"/munged.pid; do
    if pid=$(live_pid "$f"); then echo "$pid"; fi
  done
}

cmd_stop() {
  local f pid i alive pids=()
  # All at once: each daemon takes a second or two to wind down.
  # (slurmd.pid: the name an older version of this script used)
  for f in "$DIR"/slurmd-*.pid "$DIR"/slurmd.pid "$DIR"/slurmctld.pid "$DIR"/munged.pid; do
    [[ -e $f ]] || continue
    if pid=$(live_pid "$f"); then
      say "stopping $(basename "$f" .pid) (pid $pid)"
      kill "$pid" 2>/dev/null || true
      pids+=("$pid")
    fi
    rm -f "$f"
  done
  for ((i = 0; i < 100; i++)); do
    alive=()
    for pid in "${pids[@]}"; do kill -0 "$pid" 2>/dev/null && alive+=("$pid"); done
    ((${#alive[@]} > 0)) || break
    sleep 0.1
  done
  if ((${#alive[@]} > 0)); then
    say "pids ${alive[*]} ignore SIGTERM, sending SIGKILL"
    kill -9 "${alive[@]}" 2>/dev/null || true
    for ((i = 0; i < 50; i++)); do
      kill -0 "${alive[@]}" 2>/dev/null || break
      sleep 0.1
    done
  fi
  # The network goes only once nothing that talks over it is left; the
  # configuration too, so that no Slurm command keeps aiming at the nodes'
  # addresses once they are gone.
  if [[ -f $NETFILE ]]; then
    net_down
    rm -f "$CONF" "$DIR/mpi.conf"
  fi
  return 0
}

cmd_start() {
  mkdir -p "$DIR/state" "$DIR/spool" "$DIR/log"
  if cmd_status; then
    if conf_is_current; then
      say "already running (SLURM_CONF=$CONF)"
      return 0
    fi
    say "the configuration changed: restarting the cluster"
  fi
  install_packages
  # Half a cluster (one daemon died) is restarted whole rather than patched.
  cmd_stop 2>/dev/null
  # If start fails half-way (a die, or a command failing under set -e), leave
  # nothing running behind.
  trap 'say "start failed: stopping what was started"; cmd_stop' EXIT
  local n
  for n in "${node_names[@]}"; do mkdir -p "$DIR/spool/$n" "$DIR/tmp/$n"; done
  conf_text >"$CONF.tmp"
  mv "$CONF.tmp" "$CONF"
  mpi_conf_text >"$DIR/mpi.conf"
  start_munge
  if ((NODES > 1)); then net_up; fi
  # A fresh start forgets the jobs of the previous one (-c): a job it recovered
  # would hold its nodes with nothing left running for it. Without saved state job
  # ids begin again at 1: the old completion log would then answer for new jobs.
  if [[ -z $(ls -A "$DIR/state" 2>/dev/null) ]]; then rm -f "$DIR/log/jobcomp.log"; fi
  slurmctld -c -i -f "$CONF" || die "slurmctld failed to start (log: $DIR/log/slurmctld.log)"
  for n in "${node_names[@]}"; do
    if ((NODES == 1)); then
      slurmd -f "$CONF" -N "$n" || die "slurmd failed to start (log: $DIR/log/slurmd-$n.log)"
    else
      in_node "$n" slurmd -f "$CONF" -N "$n" || die "slurmd of node $n failed to start (log: $DIR/log/slurmd-$n.log)"
    fi
  done
  wait_idle || die "the nodes never became idle"
  # The node state may come from the saved state before slurmd has registered;
  # one tiny job step on every node proves munge, slurmctld and each slurmd work
  # together, and that each node answers with its own hostname.
  local got want
  want=$(printf '%s\n' "${node_names[@]}" | sort)
  if ! got=$(timeout "$WAIT" srun -N "$NODES" --ntasks-per-node=1 -t 1 -J slurm-local-probe hostname -s | sort); then
    tail -n 15 "$DIR/log/slurmctld.log" "$DIR"/log/slurmd-*.log >&2 2>/dev/null || true
    die "a probe job step on every node did not run"
  fi
  if [[ $got != "$want" ]]; then
    die "the probe job step ran on hosts '${got//$'\n'/ }', expected '${want//$'\n'/ }'"
  fi
  trap - EXIT
  if ((NODES == 1)); then
    say "running: node $HOST, $CPUS CPUs (SLURM_CONF=$CONF)"
  else
    say "running: nodes ${node_names[*]} ($SUBNET.11-$((10 + NODES)), $CPUS CPUs each), slurmctld at $CTL_ADDR:$PORT (SLURM_CONF=$CONF)"
  fi
}

# What became of a job: its line in the job completion log once it ended (written
# as it ends), else slurmctld's record (a job still pending or running).
cmd_job() {
  local id=${1:-} line
  [[ $id =~ ^[0-9]+$ ]] || { echo "usage: $0 job JOBID" >&2; exit 2; }
  line=$(grep "^JobId=$id " "$DIR/log/jobcomp.log" 2>/dev/null | tail -n1 || true)
  [[ -n $line ]] || line=$(scontrol -o show job "$id" 2>/dev/null || true)
  [[ -n $line ]] || die "job $id is unknown to this cluster"
  local field out=()
  for field in JobId JobName Name JobState ExitCode NodeList NumNodes NodeCnt NumTasks ProcCnt TRES Tres; do
    if [[ " $line " =~ [[:space:]]($field=[^[:space:]]*) ]]; then out+=("${BASH_REMATCH[1]}"); fi
  done
  echo "${out[*]}"
}

case ${1:-} in
  start) cmd_start ;;
  stop) cmd_stop ;;
  status) cmd_status ;;
  pids) cmd_pids ;;
  job) cmd_job "${2:-}" ;;
  env) echo "export SLURM_CONF=$CONF" ;;
  *) echo "usage: $0 start|stop|status|env|pids|job ID  (SB_SLURM_NODES=$NODES, scratch folder: \$SB_SLURM_DIR, now $DIR)" >&2; exit 2 ;;
esac
