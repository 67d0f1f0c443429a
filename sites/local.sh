# SITE local: this machine, with the mpiexec on PATH.
#
# A site file defines site_launch, called by bin/async-search-run with the
# async-search command line (binary first). It may read every cfg variable
# (PROCS, PPN, WALLTIME, QUEUE, PROJECT, GPUS_PER_NODE, ...; those of
# async-search hold its default when no cfg file set them) and EXPDIR,
# EXPID, MODEL, SITE, ASYNC_SEARCH_HOME. It returns the search's exit status
# (or, for a scheduler, the submission's). MPIEXEC and MPIEXEC_ARGS may be
# set in the environment.

MPIEXEC=${MPIEXEC:-mpiexec}
MPIEXEC_ARGS=${MPIEXEC_ARGS:-}

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
  # shellcheck disable=SC2086 # MPIEXEC_ARGS is a list of words
  local cmd=("$MPIEXEC" -n "$PROCS" "${flags[@]}" $MPIEXEC_ARGS "$@")
  if [ "${DRY_RUN:-0}" = 1 ]; then
    # As with the scheduler sites: show what would run, run nothing.
    printf '%q ' "${cmd[@]}"
    echo
    return 0
  fi
  # The search's output goes to the terminal and to EXPDIR/output.txt.
  "${cmd[@]}" 2>&1 | tee -a "$EXPDIR/output.txt"
}
