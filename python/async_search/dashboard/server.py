"""The dashboard's HTTP server (standard library only) and its command line.

    python3 -m async_search.dashboard EXPDIR [EXPDIR...] [--port N] [--host H]

(``async-search dashboard ...`` execs exactly this.) The first line printed is
the URL. The default host is 127.0.0.1; ``--port 0`` picks a free port. On a
host that is not a loopback address the URL carries a random token, and a
request without it (in the query, or the cookie the page's first load sets) is
refused with 403.

Routes, all GET (any other method: 405)::

    /                              the page (one experiment, or the comparison)
    /static/NAME                   index.html, app.js, style.css, plotly.js
    /api/experiments               [{index, name, path}]
    /api/exp/I/info                name, path, config.json, state, parameters
    /api/exp/I/results?gen=G&since=N   results.csv rows from row N on (data.CsvJournal)
    /api/exp/I/curves?gen=G&since=N    intermediate.csv rows likewise
    /api/exp/I/importance          async_search.importance over the ok rows
    /api/exp/I/front               several objectives: the Pareto front and its
                                   hypervolume's evolution (data.front_answer)
    /api/exp/I/log/JOB_ID          the last lines of run/JOB_ID/model.log

Exit status: 0 after an interrupt, 2 bad input (a missing or non-experiment
EXPDIR, a port in use, a bad --host), each a one-line error.
"""

from __future__ import annotations

import argparse
import errno
import gzip
import hmac
import ipaddress
import json
import math
import os
import re
import secrets
import socket
import sys
import threading
import time
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, Sequence
from urllib.parse import parse_qs, quote, urlsplit

from async_search import expfiles
from async_search.dashboard.data import Experiment, ExperimentError, front_answer

__all__ = ["Dashboard", "main", "make_server", "plotly_path"]

STATIC = Path(__file__).resolve().parent / "static"
STATIC_FILES = {"index.html": "text/html", "app.js": "text/javascript",
                "style.css": "text/css", "plotly.js": "text/javascript"}
PLOTLY_CANDIDATES = (
    "/usr/share/python3-plotly/plotly.js",  # Debian's python3-plotly
    "/usr/lib/python3/dist-packages/plotly/package_data/plotly.min.js",
)
DEFAULT_PORT = 8050
DEFAULT_HOST = "127.0.0.1"
TOKEN_COOKIE = "as_dashboard_token"
GZIP_MIN_BYTES = 1024  # smaller answers go uncompressed
IMPORTANCE_MIN_INTERVAL_S = 10.0  # importance is recomputed at most this often
FRONT_PAUSE_FACTOR = 4.0  # the front waits this many times its last computation's time
API = re.compile(r"\A/api/exp/(\d+)/(info|results|curves|importance|front|log/([^/]+))\Z")
SECURITY_HEADERS = {
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "no-referrer",
    "Content-Security-Policy": ("default-src 'self'; img-src 'self' data: blob:; "
                                "style-src 'self' 'unsafe-inline'; script-src 'self'; "
                                "connect-src 'self'"),
}


def plotly_path() -> Path | None:
    """plotly.js as Debian's python3-plotly ships it ($ASYNC_SEARCH_PLOTLY_JS first)."""
    for candidate in (os.environ.get("ASYNC_SEARCH_PLOTLY_JS"), *PLOTLY_CANDIDATES):
        if candidate and Path(candidate).is_file():
            return Path(candidate)
    return None


class Dashboard:
    """What the handlers share: the experiments, the token, caches."""

    def __init__(self, experiments: Sequence[Experiment], token: str | None,
                 hosts: set[str]) -> None:
        self.experiments = list(experiments)
        self.token = token
        self.hosts = hosts  # Host header names accepted without a token
        self._static: dict[str, bytes] = {}
        self._importance: dict[int, tuple[float, tuple[int, int], float, Any]] = {}
        self._front: dict[int, tuple[float, tuple[int, int], float, Any]] = {}
        self._lock = threading.Lock()

    def static(self, name: str) -> bytes | None:
        """A static file's bytes, gzip-compressed (read once)."""
        with self._lock:
            if name not in self._static:
                path = plotly_path() if name == "plotly.js" else STATIC / name
                if path is None:
                    return None
                self._static[name] = gzip.compress(path.read_bytes(), 6)
            return self._static[name]

    def importance(self, exp: Experiment) -> dict[str, Any]:
        """The experiment's parameter importance, recomputed when rows came and
        IMPORTANCE_MIN_INTERVAL_S passed since the last time."""
        return self._cached(self._importance, exp, _importance_answer,
                            lambda cost: IMPORTANCE_MIN_INTERVAL_S)

    def front(self, exp: Experiment) -> dict[str, Any]:
        """The experiment's Pareto front (data.front_answer), recomputed when rows
        came, after a pause of FRONT_PAUSE_FACTOR times what the last took (at
        once for small experiments; a large one costs a bounded share of a core)."""
        return self._cached(self._front, exp, lambda e: front_answer(e.frame()),
                            lambda cost: FRONT_PAUSE_FACTOR * cost)

    def _cached(self, store: dict, exp: Experiment, compute: Any, pause: Any) -> Any:
        """compute(exp), kept in store until rows came and pause(its cost) passed."""
        exp.results.refresh()
        key = (exp.results.generation, len(exp.results.rows))
        with self._lock:
            cached = store.get(exp.index)
        if cached and (cached[1] == key or time.monotonic() - cached[0] < pause(cached[2])):
            return cached[3]
        began = time.monotonic()
        answer = compute(exp)
        with self._lock:
            store[exp.index] = (time.monotonic(), key, time.monotonic() - began, answer)
        return answer


def _importance_answer(exp: Experiment) -> dict[str, Any]:
    """{"rows": n, "params": [{name, kind, importance, main, total}]} or {"error"}."""
    try:
        import numpy as np

        from async_search.importance import importance_of
    except ImportError as exc:
        return {"error": f"importance needs numpy and scikit-learn: {exc}"}
    header, rows = exp.results.header, list(exp.results.rows)
    if not header or expfiles.OBJECTIVE not in header:
        return {"rows": 0, "params": []}
    at = {name: i for i, name in enumerate(header)}
    ok = [r for r in rows if r[at[expfiles.STATUS]] == expfiles.OK
          and _finite(r[at[expfiles.OBJECTIVE]])]
    names = [c[len(expfiles.PARAM_PREFIX):] for c in header
             if c.startswith(expfiles.PARAM_PREFIX)]
    columns, categorical = {}, set()
    for name in names:
        texts = [r[at[expfiles.param_column(name)]] for r in ok]
        try:
            columns[name] = np.array([float(t) if t else math.nan for t in texts])
        except ValueError:
            columns[name] = np.array(texts, dtype=object)
            categorical.add(name)
    y = np.array([float(r[at[expfiles.OBJECTIVE]]) for r in ok])
    result = importance_of(columns, y, categorical) if names else ()
    return {"rows": len(ok), "params": [
        {"name": i.name, "kind": i.kind, "importance": _num(i.importance),
         "main": _num(i.main), "total": _num(i.total)} for i in result]}


def _finite(text: str) -> bool:
    try:
        return math.isfinite(float(text))
    except ValueError:
        return False


def _num(value: float) -> float | None:
    return value if math.isfinite(value) else None


class Handler(BaseHTTPRequestHandler):
    """GET only; every answer goes through _send."""

    server_version = "async-search-dashboard"
    dashboard: Dashboard  # set on the subclass make_server builds

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 (the base's name)
        pass  # quiet: the terminal shows the URL

    def __getattr__(self, name: str) -> Any:
        if name.startswith("do_"):  # any method but GET and HEAD
            return self._refuse_method
        raise AttributeError(name)

    def _refuse_method(self) -> None:
        self._send(HTTPStatus.METHOD_NOT_ALLOWED, b"read-only: only GET\n", "text/plain",
                   {"Allow": "GET, HEAD"})

    def do_HEAD(self) -> None:
        self.do_GET()

    def do_GET(self) -> None:
        url = urlsplit(self.path)
        query = parse_qs(url.query)
        if not self._allowed(query):
            self._send(HTTPStatus.FORBIDDEN, b"forbidden: this dashboard needs its token "
                       b"(open the URL it printed)\n", "text/plain")
            return
        path = url.path
        if ".." in path or "\\" in path or "%" in path:
            self._send(HTTPStatus.FORBIDDEN, b"forbidden path\n", "text/plain")
            return
        try:
            self._route(path, query)
        except (BrokenPipeError, ConnectionResetError):
            pass

    def _allowed(self, query: dict[str, list[str]]) -> bool:
        """The token (query or cookie) where one is needed; else a Host header
        naming this server (no DNS rebinding)."""
        token = self.dashboard.token
        if token is None:
            host = (self.headers.get("Host") or "").rsplit(":", 1)[0].strip("[]")
            return host in self.dashboard.hosts
        given = query.get("token", [""])[0] or _cookie(self.headers.get("Cookie", ""))
        return hmac.compare_digest(given.encode(), token.encode())

    def _route(self, path: str, query: dict[str, list[str]]) -> None:
        if path in ("/", "/index.html") or re.fullmatch(r"/exp/\d+/?", path):
            self._static("index.html")
        elif path.startswith("/static/") and path[len("/static/"):] in STATIC_FILES:
            self._static(path[len("/static/"):])
        elif path == "/api/experiments":
            self._json([{"index": e.index, "name": e.name, "path": str(e.root)}
                        for e in self.dashboard.experiments])
        else:
            match = API.match(path)
            if not match or int(match.group(1)) >= len(self.dashboard.experiments):
                self._send(HTTPStatus.NOT_FOUND, b"not found\n", "text/plain")
                return
            self._api(self.dashboard.experiments[int(match.group(1))], match, query)

    def _api(self, exp: Experiment, match: re.Match, query: dict[str, list[str]]) -> None:
        what = match.group(2)

        def number(name: str) -> int:
            try:
                return int(query.get(name, ["0"])[0])
            except ValueError:
                return 0
        if what == "info":
            config = exp.config()
            state = exp.state(config)
            self._json({"index": exp.index, "name": exp.name, "path": str(exp.root),
                        "config": config, "state": state.state, "detail": state.detail})
        elif what in ("results", "curves"):
            journal = exp.results if what == "results" else exp.curves
            self._json(journal.since(number("gen"), number("since")))
        elif what == "importance":
            self._json(self.dashboard.importance(exp))
        elif what == "front":
            self._json(self.dashboard.front(exp))
        else:
            lines = exp.model_log(match.group(3))
            if lines is None:
                self._send(HTTPStatus.FORBIDDEN, b"no such job log here\n", "text/plain")
            else:
                self._json({"job_id": match.group(3), "lines": lines})

    def _static(self, name: str) -> None:
        body = self.dashboard.static(name)
        if body is None:
            self._send(HTTPStatus.NOT_FOUND, b"plotly.js not found: install python3-plotly\n",
                       "text/plain")
            return
        headers = {"Content-Encoding": "gzip", "Cache-Control": "no-cache"}
        token = self.dashboard.token
        if name == "index.html" and token is not None:
            headers["Set-Cookie"] = f"{TOKEN_COOKIE}={token}; Path=/; HttpOnly; SameSite=Strict"
        if "gzip" not in self.headers.get("Accept-Encoding", ""):
            body, headers = gzip.decompress(body), {k: v for k, v in headers.items()
                                                    if k != "Content-Encoding"}
        self._send(HTTPStatus.OK, body, STATIC_FILES[name], headers)

    def _json(self, value: Any) -> None:
        body = json.dumps(value, separators=(",", ":"), allow_nan=False,
                          default=str).encode()
        headers = {"Cache-Control": "no-store"}
        if len(body) >= GZIP_MIN_BYTES and "gzip" in self.headers.get("Accept-Encoding", ""):
            body = gzip.compress(body, 5)
            headers["Content-Encoding"] = "gzip"
        self._send(HTTPStatus.OK, body, "application/json", headers)

    def _send(self, status: HTTPStatus, body: bytes, kind: str,
              headers: dict[str, str] | None = None) -> None:
        self.send_response(status)
        self.send_header("Content-Type", kind + ("; charset=utf-8" if "java" not in kind
                                                 else ""))
        self.send_header("Content-Length", str(len(body)))
        for key, value in {**SECURITY_HEADERS, **(headers or {})}.items():
            self.send_header(key, value)
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)


def _cookie(header: str) -> str:
    for part in header.split(";"):
        key, _, value = part.strip().partition("=")
        if key == TOKEN_COOKIE:
            return value
    return ""


def is_loopback(host: str) -> bool:
    """Whether every address ``host`` resolves to is a loopback address.
    Raises OSError (socket.gaierror) when it does not resolve."""
    infos = socket.getaddrinfo(host, None, proto=socket.IPPROTO_TCP)
    return all(ipaddress.ip_address(info[4][0].split("%")[0]).is_loopback for info in infos)


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True


def make_server(experiments: Sequence[Experiment], host: str, port: int,
                token: str | None) -> tuple[ThreadingHTTPServer, str]:
    """A bound server and its URL. Raises OSError when the address cannot be bound."""
    hosts = {"127.0.0.1", "localhost", "::1", host}
    shared = Dashboard(experiments, token, hosts)
    handler = type("BoundHandler", (Handler,), {"dashboard": shared})
    server_class = _Server
    if ":" in host:
        server_class = type("_Server6", (_Server,), {"address_family": socket.AF_INET6})
    server = server_class((host, port), handler)
    shown = f"[{host}]" if ":" in host else host
    if host in ("0.0.0.0", "::"):
        shown = socket.gethostname()
    url = f"http://{shown}:{server.server_address[1]}/"
    if token is not None:
        url += f"?token={quote(token)}"
    return server, url


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="async-search dashboard",
        description="Serve a live, read-only web page of experiment directories.")
    parser.add_argument("expdirs", nargs="+", metavar="EXPDIR")
    parser.add_argument("--port", type=int, default=DEFAULT_PORT,
                        help=f"TCP port (default {DEFAULT_PORT}; 0: a free one)")
    parser.add_argument("--host", default=DEFAULT_HOST,
                        help=f"address to listen on (default {DEFAULT_HOST}; another "
                             "address puts a random token in the URL)")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)

    def fail(message: str) -> int:
        print(f"async-search dashboard: error: {message}", file=sys.stderr)
        return 2
    if not 0 <= args.port <= 65535:
        return fail(f"--port {args.port}: give a port from 0 to 65535 (0: a free one)")
    try:
        experiments = [Experiment(path, i) for i, path in enumerate(args.expdirs)]
    except ExperimentError as exc:
        return fail(str(exc))
    try:
        loopback = is_loopback(args.host)
    except (OSError, ValueError) as exc:
        return fail(f"--host {args.host!r} is not an address of this machine "
                    f"({exc}); e.g. --host 127.0.0.1")
    token = None if loopback else secrets.token_urlsafe(24)
    try:
        server, url = make_server(experiments, args.host, args.port, token)
    except OSError as exc:
        if exc.errno == errno.EADDRNOTAVAIL:
            return fail(f"--host {args.host!r} is not an address of this machine "
                        f"({exc.strerror}); e.g. --host 127.0.0.1")
        why = "in use" if exc.errno == errno.EADDRINUSE else (exc.strerror or str(exc))
        return fail(f"cannot listen on {args.host} port {args.port}: {why}; "
                    "try another --port (0: a free one)")
    print(url, flush=True)
    names = ", ".join(e.name for e in experiments)
    print(f"serving {names} read-only; Ctrl-C ends", flush=True)
    try:
        server.serve_forever(poll_interval=0.5)
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()
    return 0
