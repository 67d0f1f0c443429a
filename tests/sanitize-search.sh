#!/usr/bin/env bash
# One short whole-program search with the ASan+UBSan build (make sanitize):
# any memory error or undefined behaviour in the manager or a worker aborts
# its rank, so the search fails. Leak checking is left to valgrind
# (tests/valgrind/leaks.py): Open MPI's and CPython's one-time allocations
# are not ours to free.
set -euo pipefail
home=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
binary=${1:-$home/build-sanitize/async-search}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
export ASAN_OPTIONS=detect_leaks=0:abort_on_error=1
export UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1
mpiexec -n 4 --oversubscribe --bind-to none "$binary" \
  --problem "$home/tests/integration/problems/problem_awkward.py" \
  --model-cmd "/usr/bin/python3 $home/tests/models/flaky.py --fail-every 4" \
  --max-evals 30 --sh-timeout 20 --exp-dir "$tmp/exp" > "$tmp/out.txt"
rows=$(( $(wc -l < "$tmp/exp/results.csv") - 1 ))
[ "$rows" -eq 30 ] || { echo "sanitize-search: expected 30 rows, got $rows" >&2; exit 1; }
# A restart of the finished experiment under the sanitizers too.
mpiexec -n 3 --oversubscribe --bind-to none "$binary" \
  --problem "$home/tests/integration/problems/problem_awkward.py" \
  --model-cmd "/usr/bin/python3 $home/tests/models/quadratic.py" \
  --max-evals 36 --restart "$tmp/exp" >> "$tmp/out.txt"
rows=$(( $(wc -l < "$tmp/exp/results.csv") - 1 ))
[ "$rows" -eq 36 ] || { echo "sanitize-search: expected 36 rows after the restart, got $rows" >&2; exit 1; }
# Teams of 2 (one crashing member now and then) with a stopper that halts
# teams: the team messages, the curves, the stopper and its estimates.
cat > "$tmp/problem_x.py" <<'PY'
from collections import OrderedDict


class Problem():
    def __init__(self):
        self.space = OrderedDict(x=(0.0, 10.0))
        self.params = self.space.keys()
        self.starting_point = [1.0]
PY
mpiexec -n 5 --oversubscribe --bind-to none "$binary" \
  --problem "$tmp/problem_x.py" --ranks-per-eval 2 --stopper asha \
  --model-cmd "/usr/bin/python3 $home/tests/models/team.py --steps 6 --step-sleep 0.05" \
  --max-evals 16 --exp-dir "$tmp/teams" >> "$tmp/out.txt"
rows=$(( $(wc -l < "$tmp/teams/results.csv") - 1 ))
[ "$rows" -eq 16 ] || { echo "sanitize-search: expected 16 team rows, got $rows" >&2; exit 1; }
mpiexec -n 4 --oversubscribe --bind-to none "$binary" \
  --problem "$tmp/problem_x.py" --ranks-per-eval 3 --fail-fast 0 \
  --model-cmd "/usr/bin/python3 $home/tests/models/team.py --crash-rank 2" \
  --max-evals 3 --exp-dir "$tmp/crash" >> "$tmp/out.txt" 2>&1 || [ $? -eq 4 ] ||
  { echo "sanitize-search: the crashing team did not end with exit status 4" >&2; exit 1; }
rows=$(( $(wc -l < "$tmp/crash/results.csv") - 1 ))
[ "$rows" -eq 3 ] || { echo "sanitize-search: expected 3 failed team rows, got $rows" >&2; exit 1; }
echo "sanitize-search: ok (ASan+UBSan, 30 evaluations and a restart to 36; teams with a stopper; a crashing team member)"
