"""Fork server: one warm Python process per worker that forks an evaluation.

``python -m async_search.forkserver MODEL FD`` is started by a worker rank
(``--launch fork-server``) with FD one end of a SOCK_SEQPACKET socket pair. It
imports the runner and the benchmark MODEL once (for TC1/NT3 that is
``import torch``, about a second), says ``ready``, then serves one evaluation
at a time:

- request (worker -> server): a JSON object ``{"argv": [...], "cwd": DIR,
  "env": {...}}`` with one file descriptor attached (SCM_RIGHTS): the write
  end of the pipe the worker reads the model's output from;
- the server forks; the child starts its own process group (so SH_TIMEOUT can
  end it and everything it spawned), asks the kernel to kill it if the server
  dies, takes the pipe as stdout/stderr, enters the run directory, replaces its
  environment and runs ``async_search.runner.main(argv)``;
- replies (server -> worker): ``pid N`` right after the fork, ``exit N STATUS``
  (the raw wait status) when the child ends.

The server exits when the worker closes its end (EOF), and is killed with its
worker (PR_SET_PDEATHSIG). Nothing heavy runs in the server itself: forking a
process whose OpenMP or CUDA runtime has started threads is unsafe, so models
only compute in the children.
"""

from __future__ import annotations

import ctypes
import io
import json
import os
import signal
import socket
import sys
import traceback

__all__ = ["serve"]

_PR_SET_PDEATHSIG = 1
_MAX_REQUEST = 1 << 20


def _die_with_parent() -> None:
    """Ask the kernel to SIGKILL this process when its parent dies (Linux)."""
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(_PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
    except (OSError, AttributeError):
        pass


def _child(request: dict, out_fd: int, control: socket.socket, model_main) -> None:
    """In the forked child: become the evaluation. Never returns."""
    code = 1
    try:
        os.setpgid(0, 0)
        _die_with_parent()
        control.close()
        for sig in (signal.SIGINT, signal.SIGTERM, signal.SIGPIPE, signal.SIGCHLD):
            signal.signal(sig, signal.SIG_DFL)
        null = os.open(os.devnull, os.O_RDONLY)
        os.dup2(null, 0)
        os.dup2(out_fd, 1)
        os.dup2(out_fd, 2)
        os.close(null)
        os.close(out_fd)
        sys.stdout = io.TextIOWrapper(io.FileIO(1, "w", closefd=False), line_buffering=True)
        sys.stderr = io.TextIOWrapper(io.FileIO(2, "w", closefd=False), line_buffering=True)
        os.chdir(request["cwd"])
        os.environ.clear()
        os.environ.update(request["env"])
        sys.argv = ["async_search.runner"] + list(request["argv"])
        code = model_main(list(request["argv"]), env=os.environ)
    except SystemExit as e:
        code = e.code if isinstance(e.code, int) else 1
    except BaseException:  # a crash of the evaluation is reported, never raised
        traceback.print_exc()
        code = 1
    finally:
        try:
            sys.stdout.flush()
            sys.stderr.flush()
        finally:
            os._exit(code if isinstance(code, int) else 1)


def serve(model: str, fd: int) -> int:
    """Serve evaluations of MODEL over the socket FD until EOF."""
    _die_with_parent()
    control = socket.socket(fileno=fd)
    try:
        from async_search import runner

        runner.resolve_model(model)  # imports the benchmark (torch) once, here
    except BaseException as e:  # reported to the worker, which falls back
        control.send(f"error {type(e).__name__}: {' '.join(str(e).split())}".encode())
        return 1
    control.send(b"ready")
    while True:
        try:
            data, fds, _flags, _addr = socket.recv_fds(control, _MAX_REQUEST, 1)
        except ConnectionResetError:
            return 0
        if not data:
            return 0  # the worker closed its end
        if len(fds) != 1:
            for extra in fds:
                os.close(extra)
            control.send(b"error a request needs exactly one output descriptor")
            continue
        request = json.loads(data.decode("utf-8"))
        pid = os.fork()
        if pid == 0:
            _child(request, fds[0], control, runner.main)
        os.close(fds[0])
        control.send(f"pid {pid}".encode())
        while True:
            try:
                _, status = os.waitpid(pid, 0)
                break
            except InterruptedError:
                continue
            except ChildProcessError:
                status = 1 << 8
                break
        control.send(f"exit {pid} {status}".encode())


def main(argv=None) -> int:
    args = sys.argv[1:] if argv is None else argv
    if len(args) != 2 or not args[1].isdigit():
        print("usage: python -m async_search.forkserver MODEL FD", file=sys.stderr)
        return 2
    return serve(args[0], int(args[1]))


if __name__ == "__main__":
    sys.exit(main())
