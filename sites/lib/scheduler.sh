# shellcheck shell=bash
# What the scheduler sites (slurm.sh, pbs.sh, lsf.sh) share: validation of
# the cfg-sys values, the batch script's body, submission, DRY_RUN and WAIT.
#
# A scheduler site defines, before sourcing this file:
#   SCHED_NAME         e.g. slurm (messages, job.NAME script name)
#   SCHED_REQUIRED     cfg variables that must be set (e.g. "QUEUE PROJECT")
#   sched_site_check   extra validation (after the common one); may be empty
#   sched_directives   prints the scheduler's directive lines (#SBATCH ...)
#   sched_launch_cmd   prints the launcher words, one per line (srun -n 4 ...)
#   sched_launch_setup (optional) prints shell lines the job runs just before
#                      the launch (a host file for the placed layout, below)
#   sched_redirect     0 if the scheduler writes the job's output straight into
#                      EXPDIR/output.txt (Slurm), 1 if the script must (PBS, LSF:
#                      they copy their own output file back only at the end)
#   SCHED_SUBMIT       the submit command and its words (split at spaces; the
#                      script is added by site_launch), e.g. "qsub $PBS_QSUB_ARGS"
#   SCHED_SUBMIT_STDIN 1: the script goes to the submit command's stdin, not
#                      as its last word (LSF's `bsub < job.lsf`)
#   sched_job_id       reads the submit command's stdout, prints the job id
#   sched_query_job ID asks the scheduler about the job (its answer on stdout
#                      and stderr); non-zero if the query failed
#   SCHED_JOB_GONE     a regular expression that a failed query's answer matches
#                      when the scheduler no longer knows the job (it has ended)
#   sched_job_gone ID  (optional) prints "done STATE CODE" for such a job, if
#                      the site can learn it elsewhere; else "done UNKNOWN -"
#   sched_parse_state  reads the query's answer on stdin, prints "active", or
#                      "done STATE CODE" (CODE: the job's exit code, or - if
#                      unknown), or nothing if it holds no job state
#   sched_cancel ID    cancels the job
# and gets site_check (called by bin/async-search-run before anything is
# created) and site_launch (writes EXPDIR/job.NAME, submits it, saves the job
# id in EXPDIR/job_id and, for the original workflow's tools, jobid.txt;
# waits if WAIT=1).
#
# Common variables (environment or cfg-sys):
#   DRY_RUN=1     print the job script and the submit command; create and
#                 submit nothing
#   WAIT=1        wait for the job: show its output as it grows, return the
#                 search's exit status (Ctrl-C cancels the job); else print the
#                 job id and return at once
#   WAIT_POLL     seconds between two looks at the job while waiting
#   WAIT_ERRORS   consecutive failed queries after which the wait gives up
#   JOB_SETUP     shell lines run by the job before the launch (module load ...)
#   SEARCH_TIME_LIMIT  the search's --time-limit in seconds: it stops issuing
#                 work then, ends running evaluations (a restart reissues them),
#                 writes its summary and exits before the scheduler kills the
#                 job. auto: WALLTIME minus min(300 s, 10% of WALLTIME); 0: none

# A cfg-sys file may leave these out: empty is the cluster's default queue
# and project; bin/async-search-run gives PPN and WALLTIME their defaults (1,
# 06:00:00).
PPN=${PPN:-}
QUEUE=${QUEUE:-}
PROJECT=${PROJECT:-}
WALLTIME=${WALLTIME:-}

DRY_RUN=${DRY_RUN:-0}
WAIT=${WAIT:-0}
WAIT_POLL=${WAIT_POLL:-5}
WAIT_ERRORS=${WAIT_ERRORS:-20}
JOB_SETUP=${JOB_SETUP:-}
SEARCH_TIME_LIMIT=${SEARCH_TIME_LIMIT:-auto}

# The file the job writes its launcher's exit status to, in EXPDIR.
SCHED_STATUS_FILE=exit_status

sched_die() {
  # the site the user named (polaris, crusher), not the scheduler behind it
  echo "async-search-run: error: SITE ${SITE:-$SCHED_NAME}: $*" >&2
  exit 2
}

# sched_walltime_seconds: WALLTIME as seconds; the caller has validated it.
sched_walltime_seconds() {
  local h m s
  IFS=: read -r h m s <<<"$WALLTIME"
  echo $((10#$h * 3600 + 10#$m * 60 + 10#$s))
}

# sched_walltime_normalise: WALLTIME as HH:MM:SS with minutes and seconds
# below 60 (the original's 00:60:00 becomes 01:00:00).
sched_walltime_normalise() {
  local t
  t=$(sched_walltime_seconds)
  printf '%02d:%02d:%02d' $((t / 3600)) $((t / 60 % 60)) $((t % 60))
}

# ---- where the ranks run ------------------------------------------------------
# Without GPUs and teams (GPUS_PER_NODE 0, RANKS_PER_EVAL 1) PPN counts the
# MPI processes of a node, the manager (rank 0) among them: ceil(PROCS/PPN)
# nodes, PPN ranks on each (the last one the rest). With GPUs or teams PPN
# counts the *workers* of a node and the manager runs as one more rank on the
# first node, without a GPU (async-search gives a worker the GPU of its slot
# among the node's workers): ceil((PROCS-1)/PPN) nodes, the first running the
# manager and PPN workers, the others PPN workers each (the last the rest).
# The site then places every rank itself (a host file, srun's arbitrary
# distribution, jsrun's explicit resource file), and site_check makes sure
# that no two workers of a node share a GPU (unless SHARE_GPUS=yes) and that
# teams of RANKS_PER_EVAL ranks fill nodes evenly.
SCHED_PLACED=0  # 1: the manager is an extra rank (GPUs or teams)
SCHED_WORKERS=0 # worker ranks: PROCS - 1
SCHED_WPN=0     # placed: workers per node, min(PPN, workers)
SCHED_FIRST=0   # placed: ranks on the first node (the manager + SCHED_WPN)

# sched_int VAR: VAR's whole number (a leading '+' is allowed, as
# async-search allows it); the caller has checked it with sched_is_int.
sched_int() {
  local v=${!1}
  echo $((10#${v#+}))
}
sched_is_int() { [[ "${!1-}" =~ ^\+?[0-9]{1,6}$ ]]; }

# sched_layout: sets the SCHED_ variables above from PROCS, PPN,
# GPUS_PER_NODE and RANKS_PER_EVAL (all checked).
sched_layout() {
  local ppn
  ppn=$(sched_int PPN)
  SCHED_WORKERS=$(($(sched_int PROCS) - 1))
  SCHED_PLACED=0
  if [ "$(sched_int GPUS_PER_NODE)" -gt 0 ] || [ "$(sched_int RANKS_PER_EVAL)" -gt 1 ]; then
    SCHED_PLACED=1
  fi
  SCHED_WPN=$((ppn < SCHED_WORKERS ? ppn : SCHED_WORKERS))
  SCHED_FIRST=$((SCHED_WPN + 1))
}

# sched_nodes: the nodes the job asks for.
sched_nodes() {
  if [ "$SCHED_PLACED" = 1 ]; then
    echo $(((SCHED_WORKERS + SCHED_WPN - 1) / SCHED_WPN))
  else
    echo $(((PROCS + PPN - 1) / PPN))
  fi
}

# sched_node_ranks I: the ranks node I (0, 1, ...) runs (placed layout).
sched_node_ranks() {
  local i=$1 before left
  if [ "$i" -eq 0 ]; then
    echo "$SCHED_FIRST"
    return
  fi
  before=$((i * SCHED_WPN))
  left=$((SCHED_WORKERS - before))
  echo $((left < SCHED_WPN ? left : SCHED_WPN))
}

# sched_check_layout: PPN, GPUS_PER_NODE, SHARE_GPUS, RANKS_PER_EVAL and
# PROCS together (one line each, saying how to fix it); sets the layout.
sched_check_layout() {
  local var
  for var in GPUS_PER_NODE RANKS_PER_EVAL; do
    sched_is_int "$var" ||
      sched_die "$var='${!var-}' is not a whole number (GPUS_PER_NODE: 0 or more, RANKS_PER_EVAL: 1 or more)"
  done
  [ "$(sched_int RANKS_PER_EVAL)" -ge 1 ] ||
    sched_die "RANKS_PER_EVAL=$RANKS_PER_EVAL is too small (allowed: 1 or more)"
  sched_layout
  [ "$SCHED_PLACED" = 1 ] || return 0
  local g k w share=${SHARE_GPUS:-no} low high
  g=$(sched_int GPUS_PER_NODE)
  k=$(sched_int RANKS_PER_EVAL)
  w=$SCHED_WORKERS
  if [ "$g" -gt 0 ] && [ "$share" != yes ] && [ "$SCHED_WPN" -gt "$g" ]; then
    sched_die "PPN=$PPN workers per node is more than GPUS_PER_NODE=$GPUS_PER_NODE: they would share GPUs (set PPN to at most $g: with GPUs PPN counts a node's workers, the manager runs as one more rank on the first node, without a GPU; or SHARE_GPUS=yes to let them share)"
  fi
  [ "$k" -gt 1 ] || return 0
  if [ $((w % k)) -ne 0 ]; then
    low=$((w / k * k))
    high=$((low + k))
    if [ "$low" -ge "$k" ]; then
      low="PROCS=$((low + 1)) or $((high + 1))"
    else
      low="PROCS=$((high + 1))"
    fi
    sched_die "PROCS=$PROCS leaves $w worker ranks (PROCS-1), not a multiple of RANKS_PER_EVAL=$RANKS_PER_EVAL: some would stay idle (set PROCS to 1 + a multiple of $k, e.g. $low)"
  fi
  if [ "$k" -le "$SCHED_WPN" ]; then
    [ $((SCHED_WPN % k)) -eq 0 ] ||
      sched_die "PPN=$PPN is not a multiple of RANKS_PER_EVAL=$RANKS_PER_EVAL: a team would span two nodes (set PPN to $((SCHED_WPN / k * k)), a multiple of $k)"
    return 0
  fi
  # Teams larger than a node's workers: whole nodes each.
  if [ "$g" -gt 0 ] && [ "$k" -le "$g" ]; then
    low="set PPN to $k"
    [ $((2 * k)) -gt "$g" ] || low+=", or another multiple of $k up to $g"
    sched_die "PPN=$PPN splits each team of RANKS_PER_EVAL=$RANKS_PER_EVAL ranks over nodes, though a node's $g GPUs can hold one ($low)"
  fi
  if [ $((k % SCHED_WPN)) -ne 0 ]; then
    local d=$SCHED_WPN
    while [ $((k % d)) -ne 0 ]; do d=$((d - 1)); done
    sched_die "RANKS_PER_EVAL=$RANKS_PER_EVAL is not a multiple of PPN=$PPN: teams would cover nodes unevenly (set PPN to a divisor of $k, e.g. $d)"
  fi
}

# sched_layout_summary: the layout in words, one line (for the job script).
sched_layout_summary() {
  local nodes g k text
  nodes=$(sched_nodes)
  if [ "$SCHED_PLACED" != 1 ]; then
    echo "$PROCS ranks, $PPN per node on $nodes node(s); rank 0 (the manager) on the first"
    return
  fi
  g=$(sched_int GPUS_PER_NODE)
  k=$(sched_int RANKS_PER_EVAL)
  text="$PROCS ranks on $nodes node(s): the first runs the manager (rank 0) and $SCHED_WPN workers"
  if [ "$nodes" -gt 1 ]; then
    text+=", the others $SCHED_WPN workers each"
    local last
    last=$(sched_node_ranks $((nodes - 1)))
    [ "$last" -eq "$SCHED_WPN" ] || text+=" (the last $last)"
  fi
  if [ "$g" -gt 0 ] && [ "$SCHED_WPN" -gt "$g" ]; then
    text+="; the workers of a node share its $g GPUs (SHARE_GPUS=yes), the manager has none"
  elif [ "$g" -gt 0 ]; then
    text+="; each worker one of its node's $g GPUs, the manager none"
  fi
  if [ "$k" -gt 1 ] && [ "$k" -le "$SCHED_WPN" ]; then
    text+="; teams of $k ranks, each on one node"
  elif [ "$k" -gt 1 ]; then
    text+="; teams of $k ranks, each on $((k / SCHED_WPN)) whole nodes"
  fi
  echo "$text"
}

# sched_hostfile_lines NODES: shell lines for the job script that write
# EXPDIR/hostfile, the host of every rank, one line per rank in rank order
# (the placed layout), from the hosts the shell words NODES print (each
# distinct host once or more, in the allocation's order).
# shellcheck disable=SC2016 # the job's own $ variables
sched_hostfile_lines() {
  local nodes=$1 file
  file=$(sched_quote "$EXPDIR/hostfile")
  echo "# The host of each rank, one line per rank (rank 0: the manager)"
  echo "$nodes | awk -v workers=$SCHED_WORKERS -v per_node=$SCHED_WPN" \
    "'!seen[\$0]++ { if (n == 0) print; for (i = 0; i < per_node && n < workers; i++) { print; n++ } }'" \
    ">$file || exit 1"
  echo '[ "$(wc -l <'"$file"')" -eq '"$PROCS"' ] || {'
  echo "  echo \"async-search job: the allocation's nodes hold fewer than $PROCS ranks ($file)\" >&2"
  echo '  exit 1'
  echo '}'
}

# sched_check_name VAR: a queue/project/partition name that can go on a
# directive line as it is (no spaces, quotes or shell characters).
sched_check_name() {
  local name=$1 value=${!1-}
  [ -z "$value" ] || [[ "$value" =~ ^[A-Za-z0-9_.,@:+=/-]{1,200}$ ]] ||
    sched_die "$name='$value' is not a valid name (allowed: letters, digits, '_.,@:+=/-')"
}

sched_check_flag() {
  local name=$1 value=${!1-}
  [ "$value" = 0 ] || [ "$value" = 1 ] || [ -z "$value" ] ||
    sched_die "$name='$value' is not 0 or 1"
}

site_check() {
  # bin/async-search-run has checked PROCS >= 2 and a PPN given >= 1,
  # async-search --check GPUS_PER_NODE >= 0 (its default when no cfg file
  # sets it).
  [ -n "$PPN" ] || sched_die "PPN is empty, and this site needs it (processes per node: set PPN in cfg-sys or the environment)"
  [[ "$WALLTIME" =~ ^[0-9]{1,4}:[0-9]{1,4}:[0-9]{1,4}$ ]] ||
    sched_die "WALLTIME='$WALLTIME' is not HH:MM:SS (e.g. 06:00:00)"
  [ "$(sched_walltime_seconds)" -gt 0 ] || sched_die "WALLTIME=$WALLTIME is zero"
  [ "$(sched_walltime_seconds)" -le 31536000 ] ||
    sched_die "WALLTIME=$WALLTIME is more than a year"
  WALLTIME=$(sched_walltime_normalise)
  sched_check_layout
  # (with GPUs or teams a PPN above the workers just means one node)
  [ "$SCHED_PLACED" = 1 ] || [ "$((10#$PPN))" -le "$((10#$PROCS))" ] ||
    sched_die "PPN=$PPN is more than PROCS=$PROCS (PPN: processes per node, at most PROCS)"
  local var
  for var in $SCHED_REQUIRED; do
    [ -n "${!var-}" ] || sched_die "$var is empty, and this site needs it (set $var in cfg-sys or the environment)"
  done
  # Directive lines cannot quote a path; '%' is a pattern in Slurm's and
  # LSF's output file names.
  [[ "$EXPDIR" =~ ^[^[:space:]%]+$ ]] ||
    sched_die "EXPDIR '$EXPDIR' holds a space or '%': scheduler directives cannot name it (set EXPERIMENTS)"
  sched_check_name QUEUE
  sched_check_name PROJECT
  sched_check_flag DRY_RUN
  sched_check_flag WAIT
  [[ "$WAIT_POLL" =~ ^[0-9]+(\.[0-9]+)?$ ]] && [[ "$WAIT_POLL" =~ [1-9] ]] ||
    sched_die "WAIT_POLL='$WAIT_POLL' is not a positive number of seconds"
  [[ "$WAIT_ERRORS" =~ ^[0-9]+$ ]] || sched_die "WAIT_ERRORS='$WAIT_ERRORS' is not a whole number"
  [ "$SEARCH_TIME_LIMIT" = auto ] || [[ "$SEARCH_TIME_LIMIT" =~ ^[0-9]{1,9}$ ]] ||
    sched_die "SEARCH_TIME_LIMIT='$SEARCH_TIME_LIMIT' is not auto or a whole number of seconds (0: none)"
  sched_site_check
}

# sched_time_limit: the search's --time-limit in seconds (0: none).
sched_time_limit() {
  local wall margin
  if [ "$SEARCH_TIME_LIMIT" != auto ]; then
    echo "$((10#$SEARCH_TIME_LIMIT))"
    return
  fi
  wall=$(sched_walltime_seconds)
  margin=$((wall / 10 < 300 ? wall / 10 : 300))
  echo $((wall - margin))
}

# sched_quote WORD...: the words as one shell line: plain words as they
# are, others in single quotes.
sched_quote() {
  local out=() word q="'"
  for word in "$@"; do
    if [[ "$word" =~ ^[A-Za-z0-9_./:=@%+,-]+$ ]]; then
      out+=("$word")
    else
      out+=("'${word//$q/$q\\$q$q}'")
    fi
  done
  echo "${out[*]}"
}

# sched_write_script FILE BINARY ARGS...: prints the batch script that will
# be FILE.
# shellcheck disable=SC2016 # single-quoted lines are the script's own code
sched_write_script() {
  local file=$1
  shift
  local launch=() limit arg
  mapfile -t launch < <(sched_launch_cmd)
  limit=$(sched_time_limit)
  for arg in "$@"; do
    [ "$arg" != --time-limit ] || limit=0 # already given: keep it
  done
  [ "$limit" -eq 0 ] || set -- "$@" --time-limit "$limit"
  local status_file=$EXPDIR/$SCHED_STATUS_FILE
  {
    echo "#!/bin/bash"
    sched_directives
    echo "#"
    echo "# async-search experiment $EXPID (MODEL $MODEL), written by sites/$SCHED_NAME.sh"
    echo "# submit: $(sched_submit_cmd_line "$file")"
    echo "# ranks: $(sched_layout_summary)"
    if [ "$(sched_redirect)" = 1 ]; then
      echo "exec >>$(sched_quote "$EXPDIR/output.txt") 2>&1"
    fi
    echo "cd $(sched_quote "$PWD") || exit 1"
    echo "export ASYNC_SEARCH_HOME=$(sched_quote "$ASYNC_SEARCH_HOME")"
    # What the original workflow passed to every model (PBS does not pass
    # the submitting environment on).
    echo "export SITE=$(sched_quote "$SITE")"
    local var
    for var in MODEL_PYTHON_SCRIPT OBJ_RETURN; do
      [ -z "${!var:-}" ] || echo "export $var=$(sched_quote "${!var}")"
    done
    echo 'if [ "$(id -u)" -eq 0 ]; then'
    echo '  export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1'
    echo 'fi'
    if [ -n "$JOB_SETUP" ]; then
      echo "# JOB_SETUP"
      printf '%s\n' "$JOB_SETUP"
    fi
    # where each rank runs (the placed layout), if the site must say so
    if declare -F sched_launch_setup >/dev/null; then sched_launch_setup; fi
    echo "$(sched_quote "${launch[@]}") \\"
    echo "  $(sched_quote "$@")"
    echo 'status=$?'
    echo "echo \"\$status\" >$(sched_quote "$status_file")"
    echo 'exit "$status"'
  }
}

SCHED_SUBMIT_STDIN=${SCHED_SUBMIT_STDIN:-0}

# sched_submit_cmd FILE: the submit command's words, one per line.
sched_submit_cmd() {
  # shellcheck disable=SC2206 # a list of words
  local words=($SCHED_SUBMIT)
  printf '%s\n' "${words[@]}"
}

# sched_job_state ID: "active", or "done STATE CODE"; non-zero, with the
# query's answer, if the query failed or its answer holds no job state.
sched_job_state() {
  local id=$1 out state
  if ! out=$(sched_query_job "$id" 2>&1); then
    if [[ "$out" =~ $SCHED_JOB_GONE ]]; then
      sched_job_gone "$id"
      return 0
    fi
    echo "$out"
    return 1
  fi
  state=$(sched_parse_state <<<"$out")
  if [ -z "$state" ]; then
    echo "no job state in: $out"
    return 1
  fi
  echo "$state"
}

if ! declare -F sched_job_gone >/dev/null; then
  sched_job_gone() { echo "done UNKNOWN -"; }
fi

# sched_submit_cmd_line FILE: the submit command as one line.
sched_submit_cmd_line() {
  local words=()
  mapfile -t words < <(sched_submit_cmd "$1")
  if [ "$SCHED_SUBMIT_STDIN" = 1 ]; then
    echo "$(sched_quote "${words[@]}") < $(sched_quote "$1")"
  else
    sched_quote "${words[@]}" "$1"
  fi
}

# sched_job_name: the job's name: as-EXPID, letters, digits, '_' and '-'.
sched_job_name() {
  echo "as-${EXPID//[^A-Za-z0-9_-]/_}"
}

# sched_show_output: print what EXPDIR/output.txt gained since the last call.
sched_output_offset=0
sched_show_output() {
  local file=$EXPDIR/output.txt size
  size=$(stat -c %s "$file" 2>/dev/null || echo 0)
  if [ "$size" -gt "$sched_output_offset" ]; then
    # (head may stop tail early: a SIGPIPE that must not end the wait)
    { tail -c "+$((sched_output_offset + 1))" "$file" | head -c "$((size - sched_output_offset))"; } ||
      true
    sched_output_offset=$size
  fi
}

sched_job=
sched_on_signal() {
  local sig=$1
  trap - INT TERM HUP
  if [ -n "$sched_job" ]; then
    echo "async-search-run: interrupted: cancelling job $sched_job" >&2
    sched_cancel "$sched_job" || true
  fi
  exit $((128 + sig))
}

# sched_wait ID: wait for the job; its output is shown as it grows. Returns
# the search's exit status (from EXPDIR/exit_status), else the job's.
sched_wait() {
  local id=$1 answer errors=0 state=unknown code=- words
  trap 'sched_on_signal 2' INT
  trap 'sched_on_signal 15' TERM
  trap 'sched_on_signal 1' HUP
  while :; do
    if answer=$(sched_job_state "$id" 2>&1); then
      errors=0
      read -r -a words <<<"$answer"
      if [ "${words[0]:-}" = "done" ]; then
        state=${words[1]:-unknown}
        code=${words[2]:--}
        break
      fi
    else
      errors=$((errors + 1))
      if [ "$errors" -gt "$WAIT_ERRORS" ]; then
        sched_show_output
        echo "async-search-run: error: lost track of job $id after $errors failed queries" \
          "(last: ${answer//$'\n'/ }); the job may still run: output in $EXPDIR/output.txt" >&2
        trap - INT TERM HUP
        return 1
      fi
    fi
    sched_show_output
    # in the background, so that a signal runs its trap at once
    sleep "$WAIT_POLL" &
    wait $! || true
  done
  trap - INT TERM HUP
  # The job has ended; its last lines may reach the file a moment later
  # on a shared file system.
  sleep 1
  sched_show_output
  local status_file=$EXPDIR/$SCHED_STATUS_FILE status
  if [ -s "$status_file" ] && status=$(tr -dc 0-9 <"$status_file") && [ -n "$status" ]; then
    [ "$status" -eq 0 ] ||
      echo "async-search-run: job $id ($state): the search exited with status $status; see $EXPDIR/output.txt" >&2
    return "$status"
  fi
  # The launcher never returned: the job was cancelled, ran out of time, or
  # its script failed before the launch.
  case "$code" in
    -) status=1 ;;
    *:*) # Slurm's EXIT:SIGNAL
      if [ "${code#*:}" != 0 ]; then status=$((128 + ${code#*:})); else status=${code%%:*}; fi ;;
    *) status=$code ;;
  esac
  [[ "$status" =~ ^[0-9]+$ ]] && [ "$status" -le 255 ] || status=1
  [ "$status" -ne 0 ] || status=1
  echo "async-search-run: error: job $id ended $state (exit code $code) before the search" \
    "finished; see $EXPDIR/output.txt" >&2
  return "$status"
}

site_launch() {
  local script=$EXPDIR/job.$SCHED_NAME submit out id
  if [ "$DRY_RUN" = 1 ]; then
    # The script as it would be written; nothing is created.
    sched_write_script "$script" "$@"
    echo "async-search-run: DRY_RUN=1, nothing created or submitted; to submit: $(sched_submit_cmd_line "$script")"
    return 0
  fi
  sched_write_script "$script" "$@" >"$script"
  submit=()
  mapfile -t submit < <(sched_submit_cmd "$script")
  rm -f -- "$EXPDIR/$SCHED_STATUS_FILE"
  sched_output_offset=$(stat -c %s "$EXPDIR/output.txt" 2>/dev/null || echo 0)
  if [ "$SCHED_SUBMIT_STDIN" = 1 ]; then
    out=$("${submit[@]}" <"$script" 2>&1)
  else
    out=$("${submit[@]}" "$script" 2>&1)
  fi || {
    echo "async-search-run: error: $(sched_submit_cmd_line "$script") failed: ${out//$'\n'/ }" >&2
    return 1
  }
  id=$(sched_job_id <<<"$out" || true)
  [ -n "$id" ] || {
    echo "async-search-run: error: no job id in the answer of ${submit[0]}: ${out//$'\n'/ }" >&2
    return 1
  }
  sched_job=$id
  echo "$id" >"$EXPDIR/job_id"
  # the original workflow's name for it (its queue_wait reads it)
  echo "$id" >"$EXPDIR/jobid.txt"
  echo "async-search-run: submitted job $id ($script); output in $EXPDIR/output.txt"
  [ "$WAIT" = 1 ] || return 0
  sched_wait "$id"
}
