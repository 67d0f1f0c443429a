"""A CANDLE-convention model (run(params) -> Keras-like history) that
misbehaves as its `fault` parameter says; for the runner and for
--launch fork-server tests. Put tests/models on PYTHONPATH and use
--model candle_faulty.

ok       history with val_loss = x * x
raise    raises an exception
exit3    calls sys.exit(3)
segv     dies by SIGSEGV
hang     ignores SIGTERM and never returns
pid      like ok, and prints its pid and parent pid
"""
import os
import signal
import sys
import time


def run(params):
    fault = params.get("fault", "ok")
    x = float(params.get("x", 0.5))
    print("fault", fault, "pid", os.getpid(), "ppid", os.getppid(), flush=True)
    if fault == "raise":
        raise RuntimeError("the model failed on purpose")
    if fault == "exit3":
        sys.exit(3)
    if fault == "segv":
        os.kill(os.getpid(), signal.SIGSEGV)
    if fault == "hang":
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
        while True:
            time.sleep(0.1)
    return {"loss": [1.0, x * x + 0.1], "val_loss": [1.0, x * x]}
