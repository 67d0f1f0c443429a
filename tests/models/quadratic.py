"""Test model: a cheap deterministic objective of any parameters.

Usage: quadratic.py [--sleep S] PARAMS_JSON. Numbers contribute (x - 0.3)^2
(log10 for learning rates), strings the length of their text mod 7 / 10.
Prints the parameters it received (as JSON, so tests can check the exact
values) and IMPROVE_RESULT <value>.
"""
import json
import math
import sys
import time


def objective(params):
    total = 0.0
    for value in params.values():
        if isinstance(value, bool):
            total += 0.1 * value
        elif isinstance(value, (int, float)):
            x = math.log10(value) if 0 < value < 0.5 else value
            total += (x - 0.3) ** 2 / (1.0 + abs(x))
        else:
            total += (len(str(value)) % 7) / 10.0
    return total


def main(argv):
    args = argv[1:]
    sleep = 0.0
    if args and args[0] == "--sleep":
        sleep = float(args[1])
        args = args[2:]
    with open(args[0], encoding="utf-8") as f:
        params = json.load(f)
    print("PARAMS " + json.dumps(params, ensure_ascii=False), flush=True)
    if sleep:
        time.sleep(sleep)
    print("IMPROVE_RESULT %r" % objective(params), flush=True)


if __name__ == "__main__":
    main(sys.argv)
