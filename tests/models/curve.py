"""Test model with a learning curve: reports IMPROVE_INTERMEDIATE for each step.

Usage: curve.py [--steps N] [--sleep S] [--say-last] [--end-sleep S]
PARAMS_JSON. The value at step s is
x + 1 / s (x: the point's "x", or the sum of its numbers), so the final
objective (after N steps) is x + 1 / N and curves never cross: a good point
is good from its first step. With --sleep S each step takes S seconds.
A parameter "bad_lines" true also prints malformed intermediate lines.
--say-last adds the last step (N) to every line; --end-sleep S waits S
seconds after the last step before the result (saving a checkpoint, say).
"""
import json
import sys
import time

args = sys.argv[1:]
steps, sleep, end_sleep, say_last = 8, 0.0, 0.0, False
while args and args[0].startswith("--"):
    flag = args.pop(0)
    if flag == "--say-last":
        say_last = True
        continue
    value = args.pop(0)
    if flag == "--steps":
        steps = int(value)
    elif flag == "--sleep":
        sleep = float(value)
    elif flag == "--end-sleep":
        end_sleep = float(value)
with open(args[-1], encoding="utf-8") as f:
    params = json.load(f)
x = params.get("x")
if x is None:
    x = sum(v for v in params.values() if isinstance(v, (int, float)) and not isinstance(v, bool))
for step in range(1, steps + 1):
    time.sleep(sleep)
    if params.get("bad_lines"):
        print("IMPROVE_INTERMEDIATE nope 1.0")
        print(f"IMPROVE_INTERMEDIATE {step} nan")
        if step > 1:
            print(f"IMPROVE_INTERMEDIATE {step - 1} 0.0")  # goes backwards
    last = f" {steps}" if say_last else ""
    print(f"IMPROVE_INTERMEDIATE {step} {x + 1.0 / step}{last}", flush=True)
time.sleep(end_sleep)
print(f"IMPROVE_RESULT {x + 1.0 / steps}", flush=True)
