#!/usr/bin/env bash
# stop-slurm.sh [--release PID]: stop the private test Slurm of
# start-slurm.sh (cancel its jobs, then slurmd, slurmctld, munged). With
# --release PID, only unregister PID, and stop Slurm only when no other
# registered user (start-slurm.sh --hold) is still alive. Keeps the state
# directory (logs, munge key) for inspection; safe to run when nothing runs.
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=tests/slurm/common.sh
source "$here/common.sh"
export PATH=$PATH:/usr/sbin:/sbin

release=
case "${1:-}" in
  --release) release=${2:?--release needs a pid} ;;
  "") ;;
  *) fail "usage: stop-slurm.sh [--release PID]" ;;
esac
[ -d "$SLURM_TEST_DIR" ] || exit 0
exec 9>"$SLURM_TEST_DIR/lock"
flock -w "$((SLURM_TEST_TIMEOUT * 2))" 9 || fail "another start/stop holds $SLURM_TEST_DIR/lock"

if [ -n "$release" ]; then
  rm -f "$SLURM_TEST_DIR/holders/$release"
  others=$(live_holders | paste -sd ' ' -)
  if [ -n "$others" ]; then
    say "Slurm left running: still used by pid(s) $others"
    exit 0
  fi
fi
stop_all
rm -rf "$SLURM_TEST_DIR/holders"
say "Slurm stopped"
