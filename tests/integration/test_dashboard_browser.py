"""The dashboard in a real browser: Debian's headless chromium through selenium.

Each test starts `build/async-search dashboard ... --port 0` and reads the URL
from its first line. Screenshots go to build/test-artifacts/dashboard/.
"""

from __future__ import annotations

import csv
import math
import subprocess
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest
from conftest import BINARY, ROOT, mpi_env, mpiexec, model_cmd, wait_until
from dashexp import SyntheticExperiment

webdriver = pytest.importorskip("selenium.webdriver")
from selenium.webdriver.chrome.options import Options  # noqa: E402
from selenium.webdriver.chrome.service import Service  # noqa: E402
from selenium.webdriver.common.by import By  # noqa: E402

CHROMIUM = "/usr/bin/chromium"
CHROMEDRIVER = "/usr/bin/chromedriver"
ARTIFACTS = ROOT / "build" / "test-artifacts" / "dashboard"
PAGE_TIMEOUT_S = 60  # a busy machine: plotly.js is 8 MB to parse
PANELS = ("summary", "counts", "best", "best-time", "best-evals", "slices", "importance",
          "curves", "timeline", "failures", "table")

if not (Path(CHROMIUM).exists() and Path(CHROMEDRIVER).exists()):
    pytest.skip("chromium and chromium-driver are not installed (bin/install-deps)",
                allow_module_level=True)


@pytest.fixture
def browser(tmp_path: Path):
    options = Options()
    options.binary_location = CHROMIUM
    for flag in ("--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                 "--no-first-run", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--window-size=1400,2400",
                 f"--user-data-dir={tmp_path / 'chromium'}"):
        options.add_argument(flag)
    driver = webdriver.Chrome(service=Service(CHROMEDRIVER), options=options)
    driver.set_page_load_timeout(PAGE_TIMEOUT_S)
    yield driver
    driver.quit()


class Dashboard:
    def __init__(self, *args: str) -> None:
        self.proc = subprocess.Popen([str(BINARY), "dashboard", *args, "--port", "0"],
                                     stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        self.url = self.proc.stdout.readline().strip()
        assert self.url.startswith("http://"), self.proc.stderr.read()

    def stop(self) -> None:
        self.proc.terminate()
        self.proc.wait(timeout=30)


@pytest.fixture
def serve():
    started = []

    def start(*args: str) -> Dashboard:
        started.append(Dashboard(*args))
        return started[-1]
    yield start
    for dash in started:
        dash.stop()


def text(driver, element_id: str) -> str:
    # read in one script: the page replaces its elements on every update
    return driver.execute_script(
        "const e = document.getElementById(arguments[0]); return e ? e.innerText : '';",
        element_id).strip()


def wait_text(driver, element_id: str, wanted: str, timeout: float = PAGE_TIMEOUT_S) -> None:
    wait_until(lambda: text(driver, element_id) == wanted, timeout,
               lambda: f"#{element_id} is {text(driver, element_id)!r}, not {wanted!r}")


def shot(driver, name: str) -> None:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    height = driver.execute_script("return document.body.scrollHeight")
    driver.set_window_size(1400, max(900, min(int(height) + 40, 4000)))
    time.sleep(0.5)  # plotly relayouts on resize
    driver.save_screenshot(str(ARTIFACTS / f"{name}.png"))


def csv_best(exp: Path) -> tuple[str, float, int]:
    text = (exp / "results.csv").read_text()
    rows = list(csv.DictReader(text[:text.rfind("\n") + 1].splitlines()))  # no torn line
    ok = [r for r in rows if r["status"] == "ok" and math.isfinite(float(r["objective"]))]
    best = min(ok, key=lambda r: float(r["objective"]))
    return best["job_id"], float(best["objective"]), len(rows)


def traces(driver, panel: str) -> list:
    return driver.execute_script(
        "const d = document.querySelector('#plot-' + arguments[0]);"
        "return d && d.data ? d.data.map(t => [t.type || 'scatter',"
        " (t.x || []).length, t.name || '']) : null;", panel)


def test_panels_match_results_csv_and_a_new_best_appears_live(
        tmp_path: Path, browser, serve) -> None:
    exp = SyntheticExperiment(tmp_path / "EXP001", workers=4, max_evals=200)
    exp.append(40)
    exp.append(2, status="timeout")
    new = exp.row(status="ok", obj=0.001)  # the next best, being written:
    with open(exp.root / "results.csv", "a") as handle:
        handle.write(new[:15])  # a torn last line
    dash = serve(str(exp.root))
    browser.get(dash.url)
    job, best, n = csv_best(exp.root)
    wait_text(browser, "count-total", str(n))
    for panel in PANELS:
        assert browser.find_elements(By.ID, f"panel-{panel}"), panel
    assert not browser.find_element(By.ID, "panel-front").is_displayed()  # one objective
    assert text(browser, "best-job") == job
    assert float(text(browser, "best-objective")) == pytest.approx(best, rel=1e-5)
    assert text(browser, "exp-name") == "EXP001"
    assert text(browser, "exp-state") == "interrupted"  # no lock held, 42 of 200 rows
    statuses = [r.split(",")[4] for r in (exp.root / "results.csv").read_text().splitlines()[1:-1]]
    assert text(browser, "count-failed") == str(statuses.count("failed"))
    assert text(browser, "count-timeout") == "2"
    assert text(browser, "table-count").startswith(f"{n} of {n} rows")
    assert len(browser.find_elements(By.CSS_SELECTOR, "#rows tbody tr")) == n
    ok = statuses.count("ok")
    # plotted points: the ok rows; the best-so-far line one point per row
    assert traces(browser, "best-evals") == [["scatter", ok, "ok evaluations"],
                                             ["scatter", n, "best so far"]]
    assert traces(browser, "slices") == [["scatter", ok, "lr"], ["scatter", ok, "act"]]
    logs = statuses.count("failed") + 2
    wait_until(lambda: len(browser.find_elements(By.CSS_SELECTOR, "#failures pre")) == logs
               and "ValueError: diverged" in text(browser, "failures"),
               PAGE_TIMEOUT_S, lambda: text(browser, "failures"))
    bars = sum(t[1] for t in traces(browser, "timeline"))
    assert bars == n
    wait_until(lambda: traces(browser, "importance") is not None, PAGE_TIMEOUT_S)
    importance = traces(browser, "importance")  # a bar and a marker per parameter
    assert [t[:2] for t in importance] == [["bar", 2], ["scatter", 2]]
    shot(browser, "experiment")

    # the table filters and sorts
    box = browser.find_element(By.ID, "table-filter")
    box.send_keys("timeout")
    wait_until(lambda: text(browser, "table-count").startswith(f"2 of {n} rows"), 30)
    box.clear()
    box.send_keys(" ")  # any input event re-renders; a space matches no row
    box.clear()

    # a new best lands: the page shows it without a reload
    marker = browser.execute_script("return window.performance.timeOrigin")
    with open(exp.root / "results.csv", "a") as handle:
        handle.write(new[15:])  # the write completes
    wait_text(browser, "best-job", new.split(",")[0])
    assert float(text(browser, "best-objective")) == 0.001
    assert text(browser, "count-total") == str(n + 1)
    assert browser.execute_script("return window.performance.timeOrigin") == marker


def front_trace(driver) -> list:
    """The job ids of the front panel's "Pareto front" trace, in the order drawn."""
    return driver.execute_script(
        "const d = document.querySelector('#plot-front');"
        "const t = d && d.data ? d.data.find(t => (t.name || '').startsWith('Pareto front'))"
        " : null;"
        "return t ? Array.from(t.text) : null;")


def test_two_objectives_show_the_front_and_a_new_member_live(
        tmp_path: Path, browser, serve) -> None:
    from async_search import expfiles

    exp = SyntheticExperiment(tmp_path / "EXP006", seed=3, objectives=("f1", "f2"))
    exp.append(60, logs=False)
    frame = expfiles.load_results(exp.root)
    front = expfiles.pareto_rows(frame)
    dash = serve(str(exp.root))
    browser.get(dash.url)
    wait_text(browser, "count-total", "60")
    wait_text(browser, "front-size", str(len(front)))
    assert browser.find_element(By.ID, "panel-front").is_displayed()
    assert float(text(browser, "front-hv")) == pytest.approx(
        expfiles.front_summary(frame)["hypervolume"], abs=1e-4)
    assert front_trace(browser) == list(front.sort_values("f1", kind="stable")["job_id"])
    ok = int(((frame["status"] == "ok") & frame["f1"].notna()).sum())
    assert traces(browser, "front")[0] == ["scatter", ok, "ok evaluations"]
    assert "first objective, f1" in browser.find_element(By.CSS_SELECTOR, "#panel-best h2").text
    shot(browser, "pareto")

    # a row that enters the front (a new lowest f1, the highest f2: it drops none)
    marker = browser.execute_script("return window.performance.timeOrigin")
    new = exp.append(1, status="ok", obj=float(frame["f1"].min()) / 2,
                     second=float(frame["f2"].max()) + 1, logs=False)[0].split(",")[0]
    wait_text(browser, "front-size", str(len(front) + 1))
    assert front_trace(browser)[0] == new
    assert text(browser, "count-total") == "61"
    hv = traces(browser, "front")[2]  # the hypervolume's evolution reaches the new row
    assert hv[2] == "hypervolume" and browser.execute_script(
        "return document.querySelector('#plot-front').data[2].x.slice(-2)") == [61, 61]
    assert browser.execute_script("return window.performance.timeOrigin") == marker


def test_comparison_view(tmp_path: Path, browser, serve) -> None:
    a = SyntheticExperiment(tmp_path / "EXP001", seed=1)
    b = SyntheticExperiment(tmp_path / "EXP002", seed=2)
    a.append(30, logs=False)
    b.append(50, logs=False)
    dash = serve(str(a.root), str(b.root))
    browser.get(dash.url)
    wait_until(lambda: len(browser.find_elements(By.CSS_SELECTOR, "#compare .best-job")) == 2,
               PAGE_TIMEOUT_S)
    wanted = [csv_best(a.root)[0], csv_best(b.root)[0]]
    wait_until(lambda: browser.execute_script(
        "return [...document.querySelectorAll('#compare .best-job')].map(e => e.textContent)")
        == wanted, PAGE_TIMEOUT_S)
    assert [t[1:] for t in traces(browser, "compare-best")] == [[30, "EXP001"], [50, "EXP002"]]
    shot(browser, "compare")
    browser.find_element(By.LINK_TEXT, "EXP002").click()
    wait_text(browser, "best-job", csv_best(b.root)[0])


def test_a_running_search_is_followed_to_its_end(tmp_path: Path, browser, serve) -> None:
    exp = tmp_path / "EXP003"
    cmd = mpiexec(3) + [str(BINARY), "--exp-dir", str(exp), "--problem",
                        str(ROOT / "tests" / "integration" / "problems" / "problem_slow.py"),
                        "--model-cmd", model_cmd("quadratic.py", "--sleep", "0.4"),
                        "--max-evals", "24", "--no-report"]
    search = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                              env=mpi_env())
    try:
        wait_until(lambda: (exp / "results.csv").is_file() and
                   len((exp / "results.csv").read_text().splitlines()) >= 3, 120,
                   lambda: "no rows yet")
        dash = serve(str(exp))
        browser.get(dash.url)
        wait_text(browser, "exp-state", "running")
        first = int(text(browser, "count-total") or 0)
        assert first < 24
        out, err = search.communicate(timeout=240)
        assert search.returncode == 0, err
    finally:
        if search.poll() is None:
            search.kill()
    job, best, n = csv_best(exp)
    wait_text(browser, "count-total", str(n))
    wait_text(browser, "best-job", job)
    wait_text(browser, "exp-state", "finished")
    assert float(text(browser, "best-objective")) == pytest.approx(best, rel=1e-5)
    shot(browser, "running-search")


def get(url: str, method: str = "GET") -> tuple[int, bytes]:
    try:
        with urllib.request.urlopen(urllib.request.Request(url, method=method),
                                    timeout=30) as answer:
            return answer.status, answer.read()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read()


def test_token_on_a_non_loopback_host_traversal_and_writes(
        tmp_path: Path, browser, serve) -> None:
    exp = SyntheticExperiment(tmp_path / "EXP004")
    exp.append(5)
    outside = tmp_path / "secret.txt"
    outside.write_text("secret")
    (exp.root / "run" / "0_1_0" / "model.log").unlink()
    (exp.root / "run" / "0_1_0" / "model.log").symlink_to(outside)
    before = {p: p.read_bytes() for p in exp.root.rglob("*") if p.is_file()}
    dash = serve(str(exp.root), "--host", "0.0.0.0")
    assert "?token=" in dash.url
    port = dash.url.split(":")[2].split("/")[0]
    base, token = f"http://127.0.0.1:{port}", dash.url.split("?token=")[1]
    assert get(base + "/")[0] == 403
    assert get(base + "/api/exp/0/info")[0] == 403
    assert get(base + "/api/exp/0/info?token=wrong")[0] == 403
    assert get(f"{base}/api/exp/0/info?token={token}")[0] == 200
    browser.get(base + "/")
    assert "forbidden" in browser.page_source
    browser.get(f"{base}/?token={token}")
    wait_text(browser, "count-total", "5")
    # the page's later requests carry the token too (the cookie its first load set)
    assert browser.execute_script("return fetch('/api/exp/0/info').then(r => r.status)") == 200
    for path in ("/static/../config.json", "/static/%2e%2e/config.json",
                 "/api/exp/0/log/..%2f..%2fsecret.txt", "/api/exp/0/log/0_1_0"):
        status, body = get(f"{base}{path}?token={token}")
        assert status in (403, 404) and b"secret" not in body, path
    for method in ("POST", "PUT", "DELETE", "PATCH"):
        assert get(f"{base}/api/exp/0/info?token={token}", method)[0] == 405
    shot(browser, "token")
    after = {p: p.read_bytes() for p in exp.root.rglob("*") if p.is_file()}
    assert after == before  # nothing written


def test_bad_input_exits_2(tmp_path: Path) -> None:
    exp = SyntheticExperiment(tmp_path / "EXP005")
    held = subprocess.Popen([str(BINARY), "dashboard", str(exp.root), "--port", "0"],
                            stdout=subprocess.PIPE, text=True)
    try:
        port = held.stdout.readline().strip().split(":")[2].rstrip("/")
        cases = [[str(tmp_path / "missing")], [str(tmp_path)],
                 [str(exp.root), "--port", port], [str(exp.root), "--host", "no.such.host.invalid"],
                 [str(exp.root), "--port", "70000"]]
        for args in cases:
            proc = subprocess.run([str(BINARY), "dashboard", *args], capture_output=True,
                                  text=True, timeout=60)
            assert proc.returncode == 2, (args, proc.stderr)
            assert proc.stderr.count("\n") == 1 and "error" in proc.stderr, proc.stderr
    finally:
        held.terminate()
        held.wait(timeout=30)
