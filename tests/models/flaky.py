"""Test model: fails in several ways depending on a hash of its parameters.

flaky.py [--fail-every K] PARAMS_JSON: about one evaluation in K fails,
cycling through a non-zero exit, a crash by signal, a NaN result and no
result at all; the others succeed like quadratic.py.
"""
import hashlib
import json
import os
import signal
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from quadratic import objective  # noqa: E402

args = sys.argv[1:]
every = 3
if args[0] == "--fail-every":
    every = int(args[1])
    args = args[2:]
with open(args[0], encoding="utf-8") as f:
    text = f.read()
params = json.loads(text)
h = int(hashlib.sha256(text.encode()).hexdigest(), 16)
if h % every == 0:
    kind = (h // every) % 4
    print("failing on purpose, kind", kind, flush=True)
    if kind == 0:
        sys.exit(3)
    if kind == 1:
        os.kill(os.getpid(), signal.SIGSEGV)
    if kind == 2:
        print("IMPROVE_RESULT nan")
    sys.exit(0)
print("IMPROVE_RESULT %r" % objective(params))
