"""Test model that writes a lot: KB kilobytes of output (model.log), then
IMPROVE_RESULT from its parameters. Usage: chatty.py KB PARAMS_JSON."""
import json
import sys

with open(sys.argv[-1], encoding="utf-8") as f:
    params = json.load(f)
line = "x" * 1023 + "\n"
sys.stdout.write(line * int(sys.argv[1]))
value = sum(float(v) for v in params.values() if isinstance(v, (int, float)))
print(f"IMPROVE_RESULT {value}", flush=True)
