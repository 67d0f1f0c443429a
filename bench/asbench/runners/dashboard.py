"""Dashboard at scale: time to first paint and bytes per update against size.

For each size (default 1K, 10K and 30K rows) it writes a synthetic experiment
under build/bench/dashboard/ (results.csv, intermediate.csv with 4 steps per
ok row, config.json), starts `build/async-search dashboard EXPDIR --port 0`,
and measures:

- first paint: headless chromium, from navigation start until the best job's
  id is on the page (the page's own clock, performance.now());
- bytes per update: the gzip-compressed size of the results and curves
  answers that an open page fetches after N new rows (the page polls with its
  row count), and of an update with nothing new;
- the full first load of results.csv's rows (bytes on the wire).

    PYTHONPATH=python:bench /usr/bin/python3 -m asbench.runners.dashboard [--sizes 1000,10000]

Writes build/bench/dashboard.md and prints it.
"""

from __future__ import annotations

import argparse
import json
import math
import random
import shutil
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[3]
BINARY = ROOT / "build" / "async-search"
OUT = ROOT / "build" / "bench"
HEADER = ("job_id,p:lr,p:act,p:units,objective,status,worker,m:timestamp_submit,"
          "m:timestamp_start,m:timestamp_gather,duration,steps\n")
ACTS = ("relu", "elu", "tanh", "sigmoid")
NEW_ROWS = 10  # rows appended before a measured update
PAINT_TIMEOUT_S = 180


def rows(start: int, count: int, rng: random.Random) -> tuple[str, str]:
    """count results.csv rows from job start on, and their curves."""
    out, curves = [], []
    for i in range(start, start + count):
        lr, act, units = 10 ** rng.uniform(-5, -1), rng.choice(ACTS), rng.randrange(16, 1025)
        obj = (math.log10(lr) + 2.5) ** 2 + ACTS.index(act) * 0.2 + 1.0
        status = "failed" if rng.random() < 0.05 else "ok"
        t = i * 0.5
        value = repr(obj) if status == "ok" else "nan"
        out.append(f"0_{i}_0,{lr!r},{act},{units},{value},{status},{1 + i % 64},{t:.3f},"
                   f"{t + 0.01:.3f},{t + 30:.3f},{30.0:.3f},4\n")
        if status == "ok":
            curves += [f"0_{i}_0,{s},{obj + (4 - s) * 0.3!r},{t + 7 * s:.3f}\n"
                       for s in range(1, 5)]
    return "".join(out), "".join(curves)


def write_experiment(root: Path, n: int) -> None:
    shutil.rmtree(root, ignore_errors=True)
    root.mkdir(parents=True)
    (root / "config.json").write_text(json.dumps({"max_evals": n * 2, "workers": 64}))
    body, curves = rows(0, n, random.Random(n))
    (root / "results.csv").write_text(HEADER + body)
    (root / "intermediate.csv").write_text("job_id,step,value,m:timestamp\n" + curves)


def wire_bytes(url: str) -> int:
    request = urllib.request.Request(url, headers={"Accept-Encoding": "gzip"})
    with urllib.request.urlopen(request, timeout=120) as answer:
        return len(answer.read())


def first_paint(url: str, best_job: str, tmp: Path) -> float:
    from selenium import webdriver
    from selenium.webdriver.chrome.options import Options
    from selenium.common.exceptions import WebDriverException
    from selenium.webdriver.chrome.service import Service

    options = Options()
    options.binary_location = "/usr/bin/chromium"
    for flag in ("--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                 "--no-first-run", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--window-size=1400,2400",
                 f"--user-data-dir={tmp}"):
        options.add_argument(flag)
    options.page_load_strategy = "none"  # get() returns at once: the poll below times the page
    driver = webdriver.Chrome(service=Service("/usr/bin/chromedriver"), options=options)
    try:
        driver.set_page_load_timeout(PAINT_TIMEOUT_S)
        driver.get(url)
        deadline = time.monotonic() + PAINT_TIMEOUT_S
        while time.monotonic() < deadline:
            try:
                shown = driver.execute_script(
                    "const e = document.getElementById('best-job');"
                    "return e ? [e.textContent, performance.now()] : null;")
            except WebDriverException:  # the document is not there yet
                shown = None
            if shown and shown[0] == best_job:
                return shown[1] / 1000.0
            time.sleep(0.05)
        raise RuntimeError(f"{url}: the best job {best_job} was not shown")
    finally:
        driver.quit()


def best_job(root: Path) -> str:
    best, job = math.inf, ""
    for line in (root / "results.csv").read_text().splitlines()[1:]:
        fields = line.split(",")
        if fields[5] == "ok" and float(fields[4]) < best:
            best, job = float(fields[4]), fields[0]
    return job


def measure(n: int) -> dict:
    root = OUT / "dashboard" / f"exp{n}"
    write_experiment(root, n)
    proc = subprocess.Popen([str(BINARY), "dashboard", str(root), "--port", "0"],
                            stdout=subprocess.PIPE, text=True)
    try:
        url = proc.stdout.readline().strip()
        api = url + "api/exp/0/"
        full = wire_bytes(api + "results?gen=0&since=0")
        rows_now = n
        curves_now = json.loads(urllib.request.urlopen(api + "curves?since=0").read())["next"]
        idle = wire_bytes(f"{api}results?gen=0&since={rows_now}") + \
            wire_bytes(f"{api}curves?gen=0&since={curves_now}")
        body, curves = rows(n, NEW_ROWS, random.Random(-n))
        with open(root / "results.csv", "a") as f:
            f.write(body)
        with open(root / "intermediate.csv", "a") as f:
            f.write(curves)
        update = wire_bytes(f"{api}results?gen=0&since={rows_now}") + \
            wire_bytes(f"{api}curves?gen=0&since={curves_now}")
        paint = first_paint(url, best_job(root), OUT / "dashboard" / f"chromium{n}")
        return {"rows": n, "csv_kb": (root / "results.csv").stat().st_size / 1024,
                "first_load_kb": full / 1024, "first_paint_s": paint,
                "update_bytes": update, "idle_bytes": idle}
    finally:
        proc.terminate()
        proc.wait(timeout=30)


def table(results: list) -> str:
    lines = ["# Dashboard: first paint and bytes per update", "",
             f"Synthetic experiments (3 parameters, 5% failed, 4 curve steps per ok row); "
             f"an update after {NEW_ROWS} new rows; gzip on the wire.", "",
             "| rows | results.csv | first load (rows, gzip) | first paint (best job shown) "
             f"| update after {NEW_ROWS} rows | update, nothing new |",
             "|---:|---:|---:|---:|---:|---:|"]
    for r in results:
        lines.append(f"| {r['rows']} | {r['csv_kb']:.0f} KiB | {r['first_load_kb']:.0f} KiB "
                     f"| {r['first_paint_s']:.2f} s | {r['update_bytes']} B "
                     f"| {r['idle_bytes']} B |")
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="asbench.runners.dashboard")
    parser.add_argument("--sizes", default="1000,10000,30000")
    args = parser.parse_args(argv)
    if not BINARY.exists():
        print(f"dashboard bench: error: {BINARY} is not built (run make)", file=sys.stderr)
        return 2
    results = [measure(int(n)) for n in args.sizes.split(",")]
    text = table(results)
    OUT.mkdir(parents=True, exist_ok=True)
    (OUT / "dashboard.md").write_text(text)
    print(text, end="")
    return 0


if __name__ == "__main__":
    sys.exit(main())
