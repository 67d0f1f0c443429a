"""Test model: ignores SIGTERM and never finishes."""
import signal
import time

signal.signal(signal.SIGTERM, signal.SIG_IGN)
print("hanging", flush=True)
while True:
    time.sleep(0.1)
