"""Test model: fails in several ways depending on a hash of its parameters.

flaky.py [--fail-every K] [--counter FILE] PARAMS_JSON: about one
evaluation in K fails, cycling through a non-zero exit, a crash by signal, a
NaN result and no result at all; the others succeed like quadratic.py. Which
ones fail follows a hash of the parameters, or with --counter the order in
which evaluations start (FILE, shared by them under a lock, counts them):
then evaluation n fails when n % K == K - 1, with kind (n // K) % 4, so the
first succeeds and every kind comes in turn whatever points the search
chose.
"""
import fcntl
import hashlib
import json
import os
import signal
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from quadratic import objective  # noqa: E402

args = sys.argv[1:]
every = 3
counter = None
while args[0].startswith("--"):
    if args[0] == "--fail-every":
        every = int(args[1])
    elif args[0] == "--counter":
        counter = args[1]
    args = args[2:]
with open(args[0], encoding="utf-8") as f:
    text = f.read()
params = json.loads(text)
if counter:
    with open(counter, "a+", encoding="utf-8") as f:
        fcntl.flock(f, fcntl.LOCK_EX)
        f.seek(0)
        n = len(f.read())
        f.write(".")
    fails, kind = n % every == every - 1, (n // every) % 4
else:
    h = int(hashlib.sha256(text.encode()).hexdigest(), 16)
    fails, kind = h % every == 0, (h // every) % 4
if fails:
    print("failing on purpose, kind", kind, flush=True)
    if kind == 0:
        sys.exit(3)
    if kind == 1:
        os.kill(os.getpid(), signal.SIGSEGV)
    if kind == 2:
        print("IMPROVE_RESULT nan")
    sys.exit(0)
print("IMPROVE_RESULT %r" % objective(params))
