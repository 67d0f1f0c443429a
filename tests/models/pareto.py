"""Test model with two objectives: prints the labelled result line.

Usage: pareto.py [--sleep S] [--label-bad] PARAMS_JSON. With x and y in [0, 1]:
f1 = x, f2 = (1 + 9 y) (1 - sqrt(x / (1 + 9 y))) (ZDT1-like: the front is
y = 0, f2 = 1 - sqrt(f1)). Prints ``IMPROVE_RESULT f1=... f2=...``; when x >
0.9 it prints a mis-labelled line instead (``f1=... f3=...``), which the
search must count as a failed evaluation naming the label.
"""
import json
import math
import sys
import time


def objectives(params):
    x, y = float(params["x"]), float(params["y"])
    g = 1.0 + 9.0 * y
    return x, g * (1.0 - math.sqrt(x / g))


def main(argv):
    args = argv[1:]
    sleep = 0.0
    if args and args[0] == "--sleep":
        sleep = float(args[1])
        args = args[2:]
    always_bad = bool(args) and args[0] == "--label-bad"
    args = args[1:] if always_bad else args
    with open(args[0], encoding="utf-8") as f:
        params = json.load(f)
    if sleep:
        time.sleep(sleep)
    f1, f2 = objectives(params)
    label = "f3" if always_bad or params["x"] > 0.9 else "f2"
    print(f"IMPROVE_RESULT f1={f1!r} {label}={f2!r}", flush=True)


if __name__ == "__main__":
    main(sys.argv)
