# shellcheck shell=bash
# shellcheck disable=SC2034 # the variables are for the scripts that source this file
# Shared by start-slurm.sh and stop-slurm.sh: where the private test Slurm
# lives and how to talk to its daemons. Everything is under one directory;
# nothing in /etc, /run or /var is touched, and the daemons listen on ports
# of their own, so a Slurm already installed on the machine is left alone.

# State directory: slurm.conf, munge key and socket, spool, logs, pid files.
SLURM_TEST_DIR=${ASYNC_SEARCH_SLURM_DIR:-/tmp/async-search-slurm-$(id -u)}
# slurmctld's port; slurmd listens on the next one.
SLURM_TEST_PORT=${ASYNC_SEARCH_SLURM_PORT:-16817}
# CPUs the node offers. More than the real cores: the workers of a search
# mostly wait for their models, and tests run more ranks than there are cores.
SLURM_TEST_CPUS=${ASYNC_SEARCH_SLURM_CPUS:-16}
# Seconds to wait for the node to become idle, and for daemons to stop.
SLURM_TEST_TIMEOUT=${ASYNC_SEARCH_SLURM_TIMEOUT:-60}
SLURM_TEST_PARTITION=debug

SLURM_TEST_CONF=$SLURM_TEST_DIR/slurm.conf
SLURM_TEST_NODE=$(hostname -s 2>/dev/null || uname -n | cut -d. -f1)
SLURM_TEST_MUNGE_SOCKET=$SLURM_TEST_DIR/munge/munge.socket
export SLURM_CONF=$SLURM_TEST_CONF

say() { echo "${0##*/}: $*" >&2; }
fail() {
  say "error: $*"
  exit 1
}

# pid_of NAME: the live pid recorded in NAME.pid whose command is NAME, else
# nothing (a stale file, or a pid reused by another program).
pid_of() {
  local name=$1 file=$SLURM_TEST_DIR/run/$1.pid pid
  [ -s "$file" ] || return 1
  pid=$(tr -dc 0-9 <"$file")
  [ -n "$pid" ] && [ -r "/proc/$pid/comm" ] || return 1
  [ "$(cat "/proc/$pid/comm" 2>/dev/null)" = "$name" ] || return 1
  echo "$pid"
}

# stop_daemon NAME: TERM, then KILL after SLURM_TEST_TIMEOUT/4 seconds.
stop_daemon() {
  local name=$1 pid i
  pid=$(pid_of "$name") || return 0
  kill -TERM "$pid" 2>/dev/null || return 0
  for ((i = 0; i < SLURM_TEST_TIMEOUT * 10 / 4; i++)); do
    kill -0 "$pid" 2>/dev/null || { rm -f "$SLURM_TEST_DIR/run/$name.pid"; return 0; }
    sleep 0.1
  done
  say "$name (pid $pid) ignored SIGTERM; killing it"
  kill -KILL "$pid" 2>/dev/null || true
  rm -f "$SLURM_TEST_DIR/run/$name.pid"
}

# live_holders: pids registered with --hold that are still alive.
live_holders() {
  local f pid
  for f in "$SLURM_TEST_DIR"/holders/*; do
    [ -e "$f" ] || continue
    pid=${f##*/}
    if [ -d "/proc/$pid" ]; then echo "$pid"; else rm -f "$f"; fi
  done
}

# stop_all: cancel every job, then stop slurmd, slurmctld and munged.
stop_all() {
  local i ids
  if pid_of slurmctld >/dev/null; then
    ids=$(squeue -h -o %i 2>/dev/null || true)
    if [ -n "$ids" ]; then
      # shellcheck disable=SC2086 # a list of job ids
      scancel $ids 2>/dev/null || true
      for ((i = 0; i < SLURM_TEST_TIMEOUT * 10 / 4; i++)); do
        [ -z "$(squeue -h -o %i 2>/dev/null)" ] && break
        sleep 0.1
      done
    fi
  fi
  stop_daemon slurmd
  stop_daemon slurmctld
  stop_daemon munged
}
