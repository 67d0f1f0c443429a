#!/usr/bin/env bash
# A prepared check on a machine with one or more NVIDIA GPUs (not run by
# `make test`: CI has none): builds async-search against the machine's own
# Python (the one that holds PyTorch with CUDA), then runs a short TC1 search
# under mpiexec with one GPU per worker (--gpus-per-node; workers share the
# GPUs when there are fewer than workers) and the lce stopper, while
# nvidia-smi records which processes hold GPU memory. It passes when the
# search ends with ok rows, at least one model process held GPU memory, and
# the models' logs show the epochs they trained.
#   tests/gpu/tc1-cuda.sh [WORKERS] [EVALS] [EPOCHS]       (needs make data)
# Output (manager.log, results.csv, the GPU samples, a summary) goes to
# $OUT, or build/gpu-check.
set -uo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/../.."
workers=${1:-2} evals=${2:-8} epochs=${3:-6}
out=${OUT:-build/gpu-check}
mkdir -p "$out"
py=${PYTHON:-$(command -v python3)}
gpus=$(nvidia-smi -L | wc -l)
echo "python: $py ($("$py" -c 'import sys, torch; print(sys.version.split()[0], "torch", torch.__version__, "cuda", torch.cuda.is_available())'))"
echo "GPUs: $gpus"
# python3-config from the interpreter's own sysconfig, for a Python without one
pycfg=$(mktemp)
cat >"$pycfg" <<CFG
#!/bin/sh
exec "$py" - "\$@" <<'PY'
import sys, sysconfig
v = sysconfig.get_config_var
if "--includes" in sys.argv:
    print("-I" + sysconfig.get_paths()["include"])
elif "--ldflags" in sys.argv:
    print("-L%s -Wl,-rpath,%s -lpython%s %s" % (v("LIBDIR"), v("LIBDIR"), v("LDVERSION"), v("LIBS") or ""))
PY
CFG
chmod +x "$pycfg"
config=${PYTHON_CONFIG:-$pycfg}
make -j"$(nproc)" BUILD=build/gpu PYTHON="$py" PYTHON_CONFIG="$config" build/gpu/async-search \
  >"$out/build.log" 2>&1 || { tail -20 "$out/build.log"; exit 1; }
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
export ASYNC_SEARCH_HOME=$PWD  # the binary is in build/gpu, not build/
model=$(mktemp --suffix=.txt)
sed -e "s/^epochs = .*/epochs = $epochs/" python/async_search/benchmarks/tc1_default_model.txt >"$model"
share=no
[ "$workers" -gt "$gpus" ] && share=yes
nvidia-smi --query-compute-apps=pid,process_name,used_memory --format=csv,noheader -lms 500 \
  >"$out/gpu-apps.csv" 2>/dev/null &
smi=$!
exp=$(mktemp -d)/EXP000
start=$(date +%s)
CANDLE_DEFAULT_MODEL_FILE=$model mpiexec -n $((workers + 1)) --oversubscribe --bind-to none \
  build/gpu/async-search --problem problems/problem_tc1.py --model tc1 \
  --max-evals "$evals" --gpus-per-node "$gpus" --share-gpus "$share" \
  --stopper lce --stopper-max-step "$epochs" --exp-dir "$exp" --no-report \
  >"$out/search.log" 2>&1
rc=$?
kill $smi 2>/dev/null
cp "$exp/results.csv" "$exp/manager.log" "$out/" 2>/dev/null
epoch_s=$(cat "$exp"/run/*/model.log 2>/dev/null | sed -n 's/^Epoch [0-9]*\/[0-9]* - \([0-9.]*\)s.*/\1/p' | sort -n | awk '{a[NR]=$1} END {if (NR) print a[int((NR+1)/2)]}')
ok=$(grep -c ',ok,' "$exp/results.csv" 2>/dev/null)
held=$(grep -c 'python' "$out/gpu-apps.csv" 2>/dev/null)
{
  echo "exit status $rc after $(( $(date +%s) - start )) s; ok rows: ${ok:-0}; stopped: $(grep -c ',stopped,' "$exp/results.csv")"
  echo "GPU samples with a model process holding memory: ${held:-0}"
  echo "median epoch seconds: ${epoch_s:-none}"
  tail -5 "$out/search.log"
} | tee "$out/summary.txt"
[ "$rc" -eq 0 ] && [ "${ok:-0}" -gt 0 ] && [ "${held:-0}" -gt 0 ]
