# shellcheck shell=bash
# SITE local: this machine, with the mpiexec on PATH.
#
# A site file defines site_launch, called by bin/async-search-run with the
# async-search command line (binary first). It may read every cfg variable
# (PROCS, PPN, WALLTIME, QUEUE, PROJECT, GPUS_PER_NODE, ...; those of
# async-search hold its default when no cfg file set them) and EXPDIR,
# EXPID, MODEL, SITE, SITE_FILE, ASYNC_SEARCH_HOME, RESTART_HINT. It is
# sourced before the cfg variables get their defaults, so that it may give
# its own (GPUS_PER_NODE=${GPUS_PER_NODE:-4}); it returns the search's exit
# status (or, for a scheduler, the submission's). MPIEXEC and MPIEXEC_ARGS
# may be set in the environment.
#
# PPN plays no part here: mpiexec places the ranks (on this machine, or over
# an allocation it runs in). GPUs and teams (GPUS_PER_NODE, SHARE_GPUS,
# RANKS_PER_EVAL) are checked by async-search itself as it starts, which is
# at once here: more workers on a node than GPUs are refused (one line, exit
# 2) unless SHARE_GPUS=yes, ranks left out of teams stay idle (a warning).
#
# The search's output goes to the terminal and to EXPDIR/output.txt. Ctrl-C
# (SIGINT), SIGTERM and SIGHUP (as SIGTERM) are passed to the manager (rank 0, whose pid
# EXPDIR/.lock holds) rather than to mpiexec: Open MPI's mpiexec, on SIGINT or
# SIGTERM, turns them into SIGTERM for every rank, SIGKILL one second later
# (odls_base_sigkill_timeout) and exit status 1 whatever the ranks return.
# The manager stops issuing work, ends the running evaluations, prints its
# summary and exits with 128+signal, which mpiexec then returns. A second
# Ctrl-C goes to mpiexec (it ends the job); a third kills mpiexec (SIGKILL to
# its session), which ends the ranks with it: Open MPI's mpiexec can hang in
# its own shutdown after every rank has ended, and then hears no signal but
# that one. The output keeps flowing to output.txt throughout: tee ignores
# these signals and ends when the search's output does.

MPIEXEC=${MPIEXEC:-mpiexec}
MPIEXEC_ARGS=${MPIEXEC_ARGS:-}

# local_manager_pid: the manager's pid, if it runs on this host under our
# mpiexec (EXPDIR/.lock holds "pid N on HOST"; a stale file from an earlier
# run names a process that is not ours).
local_manager_pid() {
  local line pid host up
  read -r line 2>/dev/null <"$EXPDIR/.lock" || return 1
  [[ "$line" =~ ^pid\ ([0-9]+)\ on\ (.+)$ ]] || return 1
  pid=${BASH_REMATCH[1]}
  host=${BASH_REMATCH[2]}
  [ "$host" = "$(uname -n)" ] || return 1
  # a descendant of our mpiexec (Open MPI: its child; MPICH: a grandchild)
  up=$pid
  for _ in 1 2 3 4; do
    up=$(ps -o ppid= -p "$up" 2>/dev/null | tr -d ' ') || return 1
    [ -n "$up" ] && [ "$up" != 0 ] || return 1
    if [ "$up" = "$local_mpiexec" ]; then
      echo "$pid"
      return 0
    fi
  done
  return 1
}

local_signal=0
local_interrupts=0
# local_interrupt SIGNUM NAME: pass a signal to the search (see above); the
# manager stops on SIGINT and SIGTERM, so SIGHUP (the terminal is gone)
# reaches it as SIGTERM.
local_interrupt() {
  local num=$1 name=$2 pid send=$2
  [ "$send" != HUP ] || send=TERM
  [ "$local_signal" != 0 ] || local_signal=$num
  local_interrupts=$((local_interrupts + 1))
  if [ "$local_interrupts" -eq 1 ] && pid=$(local_manager_pid); then
    echo "async-search-run: SIG$name: stopping the search (it ends the running evaluations and prints its summary; again to end it at once)" >&2 ||
      true # the terminal may be gone (SIGHUP)
    kill -s "$send" "$pid" 2>/dev/null || true
  elif [ "$local_interrupts" -lt 3 ]; then
    kill -s "$send" "$local_mpiexec" 2>/dev/null || true
  else
    echo "async-search-run: SIG$name again: killing mpiexec (pid $local_mpiexec); every finished result is in results.csv" >&2 ||
      true
    # its session when setsid made it one (its pid is the group's), else it
    kill -s KILL -- "-$local_mpiexec" 2>/dev/null ||
      kill -s KILL "$local_mpiexec" 2>/dev/null || true
  fi
}

# local_run OUTPUT CMD...: runs CMD in a session of its own (the terminal's
# signals reach this script and tee, not mpiexec), its output through tee to
# the terminal and OUTPUT. Returns CMD's status, or 128+signal when a signal
# ended a search that could not say so itself (mpiexec's status 1).
local_run() {
  local out=$1 status tmp
  shift
  tmp=$(mktemp -d "${TMPDIR:-/tmp}/async-search-run.XXXXXX")
  mkfifo "$tmp/output"
  (
    trap '' INT TERM HUP
    exec tee -p -a "$out" <"$tmp/output"
  ) &
  local tee_pid=$!
  local launch=("$@")
  command -v setsid >/dev/null && launch=(setsid "$@")
  (
    trap - INT QUIT
    exec "${launch[@]}" </dev/null >"$tmp/output" 2>&1
  ) &
  local_mpiexec=$!
  trap 'local_interrupt 2 INT' INT
  trap 'local_interrupt 15 TERM' TERM
  trap 'local_interrupt 1 HUP' HUP
  # wait returns early (above 128) when a trapped signal arrives
  while :; do
    status=0
    wait "$local_mpiexec" || status=$?
    kill -0 "$local_mpiexec" 2>/dev/null || break
  done
  trap - INT TERM HUP
  wait "$tee_pid" || true
  rm -rf -- "$tmp"
  # mpiexec's own status 1, or killed by the third interrupt
  if [ "$local_signal" != 0 ] && { [ "$status" -eq 1 ] || [ "$status" -eq 137 ]; }; then
    status=$((128 + local_signal))
  fi
  if [ "$local_signal" != 0 ] && [ "$status" -ne 0 ]; then
    echo "async-search-run: interrupted (exit status $status); continue it with: $RESTART_HINT" |
      tee -p -a "$out" || true
  fi
  return "$status"
}

site_launch() {
  local flags=()
  if "$MPIEXEC" --version 2>/dev/null | grep -qE "Open MPI|OpenRTE"; then
    # Workers may outnumber cores (they mostly wait for their models), and a
    # model must not be pinned to the core of its rank.
    flags=(--oversubscribe --bind-to none)
    if [ "$(id -u)" -eq 0 ]; then
      export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
    fi
  fi
  # shellcheck disable=SC2206 # MPIEXEC_ARGS is a list of words
  local cmd=("$MPIEXEC" -n "$PROCS" "${flags[@]}" $MPIEXEC_ARGS "$@")
  if [ "${DRY_RUN:-0}" = 1 ]; then
    # As with the scheduler sites: show what would run, run nothing.
    echo "async-search-run: DRY_RUN=1, nothing created or run; the command it would run:"
    printf '%q ' "${cmd[@]}"
    echo
    return 0
  fi
  local_run "$EXPDIR/output.txt" "${cmd[@]}"
}
