"""Test model: writes its environment and argv as JSON to env.json in its
run directory, then succeeds."""
import json
import os
import sys

with open("env.json", "w") as f:
    json.dump({"env": dict(os.environ), "argv": sys.argv, "cwd": os.getcwd()}, f)
print("IMPROVE_RESULT 1.0")
