"""Real ``qianfan worker`` processes for the tests: started against a database and a broker, their log parsed for
the tasks they ran, and stopped for good (the whole process group) in teardown."""

from __future__ import annotations

import contextlib
import os
import re
import signal
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Callable
from pathlib import Path

#: ``Task <name>[<id>] succeeded in …`` / ``… received`` lines of a worker log at INFO.
_TASK_LINE = re.compile(r"Task (?P<name>[\w.]+)\[(?P<id>[^\]]+)\] (?P<what>received|succeeded|raised|retry)")


def start_worker(
    tmp_path: Path,
    database_url: str,
    broker_url: str,
    *,
    name: str = "worker",
    queues: str | None = None,
    concurrency: int = 2,
    env: dict[str, str] | None = None,
) -> subprocess.Popen[bytes]:
    """``qianfan worker`` in its own session (its pool children are stopped with it), logging to ``<name>.log``."""
    environ = {
        **os.environ,
        "QIANFAN_ENV": "test",
        "QIANFAN_DATABASE_URL": database_url,
        "QIANFAN_BROKER_URL": broker_url,
        "QIANFAN_VAR_DIR": str(tmp_path / name / "var"),
        **(env or {}),
    }
    args = [sys.executable, "-m", "cli.main", "worker", "--concurrency", str(concurrency), "--loglevel", "INFO"]
    args += ["--name", f"{name}.{os.getpid()}@%h"]
    if queues:
        args += ["--queues", queues]
    log = (tmp_path / f"{name}.log").open("wb")
    try:
        return subprocess.Popen(args, env=environ, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    finally:
        log.close()


def stop(proc: subprocess.Popen[bytes]) -> None:
    """Warm shutdown (SIGTERM to the main process), then SIGKILL to whatever is left of its process group."""
    if proc.poll() is None:
        proc.terminate()
        with contextlib.suppress(subprocess.TimeoutExpired):
            proc.wait(timeout=15)
    kill(proc)


def kill(proc: subprocess.Popen[bytes]) -> None:
    """SIGKILL the worker and its pool children at once (no warm shutdown, nothing acknowledged)."""
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(proc.pid, signal.SIGKILL)
    proc.wait()


def log_text(tmp_path: Path, name: str = "worker") -> str:
    path = tmp_path / f"{name}.log"
    return path.read_text(errors="replace") if path.exists() else ""


def task_lines(tmp_path: Path, name: str, what: str = "succeeded") -> Counter[str]:
    """How many times each task id was *what* (received, succeeded…) in worker *name*'s log."""
    return Counter(m["id"] for m in _TASK_LINE.finditer(log_text(tmp_path, name)) if m["what"] == what)


def wait_until(
    condition: Callable[[], bool], timeout: float, *, procs: tuple[subprocess.Popen[bytes], ...] = (), why: str = ""
) -> float:
    """Poll *condition* every 0.1 s; fail if a worker died or *timeout* passed.  Returns the seconds waited."""
    started = time.monotonic()
    while not condition():
        for proc in procs:
            assert proc.poll() is None, f"a worker exited with {proc.returncode} ({why})"
        if time.monotonic() - started > timeout:
            raise AssertionError(f"not done after {timeout} s: {why}")
        time.sleep(0.1)
    return time.monotonic() - started


def is_ready(tmp_path: Path, name: str = "worker") -> bool:
    return " ready." in log_text(tmp_path, name)
