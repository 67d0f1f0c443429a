"""Fault-injection model: misbehaves as its `fault` parameter says.

ok       prints IMPROVE_RESULT from x
exit1    exits with status 1 after printing a result
sigkill  / sigabrt / sigsegv: dies by that signal
nan, inf prints a non-finite result
text     prints a non-numeric result and writes one to result.txt
none     prints nothing that looks like a result
hang     ignores SIGTERM and never ends (SH_TIMEOUT must kill it)
flood    writes 40 MB of output, then a valid result
rmdir    removes its own run directory, then prints a valid result
mpi      imports mpi4py and calls MPI_Init: it must not join (or hang) the job
"""
import json
import os
import shutil
import signal
import sys
import time

with open(sys.argv[-1], encoding="utf-8") as f:
    params = json.load(f)
fault = params.get("fault", "ok")
x = float(params.get("x", 0.5))
print("fault", fault, flush=True)
if fault == "exit1":
    print("IMPROVE_RESULT 1.0", flush=True)
    sys.exit(1)
if fault in ("sigkill", "sigabrt", "sigsegv"):
    os.kill(os.getpid(), getattr(signal, fault.upper()))
if fault == "nan":
    print("IMPROVE_RESULT nan")
elif fault == "inf":
    print("IMPROVE_RESULT inf")
elif fault == "text":
    print("IMPROVE_RESULT lots")
    with open("result.txt", "w") as f:
        f.write("not a number\n")
elif fault == "none":
    print("done, but no result")
elif fault == "hang":
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
    while True:
        time.sleep(0.1)
elif fault == "flood":
    line = "y" * 1023 + "\n"
    for _ in range(40 * 1024):
        sys.stdout.write(line)
    print("IMPROVE_RESULT %r" % (x * x))
elif fault == "rmdir":
    shutil.rmtree(os.getcwd())
    print("IMPROVE_RESULT %r" % (x * x))
elif fault == "mpi":
    from mpi4py import MPI
    print("mpi size", MPI.COMM_WORLD.Get_size(), flush=True)
    print("IMPROVE_RESULT %r" % (x * x))
else:
    print("IMPROVE_RESULT %r" % (x * x))
