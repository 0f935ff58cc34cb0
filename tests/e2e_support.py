"""Helpers for the browser test: a real `streamlit run` on a free local port
with its own database, and Debian's chromium driven by python playwright.

Never `playwright install`: the browser is /usr/bin/chromium (.ci/run
installs it with apt when missing).
"""
from __future__ import annotations

import contextlib
import ctypes
import io
import os
import signal
import socket
import struct
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]
PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def load_demo(db: Path) -> None:
    """The demo company into `db` through the CLI, as `make demo` does (in
    this process: the server opens the file only after the command closed it)."""
    from kpi_logic.cli.main import main
    with contextlib.redirect_stdout(io.StringIO()):
        code = main(["--db", str(db), "demo"])
    assert code == 0, f"loading the demo into {db} ended with exit code {code}"


class StreamlitServer:
    """`streamlit run app.py` on 127.0.0.1:port with LODESTAR_DB=db; output goes to `log`."""

    def __init__(self, db: Path, log: Path, env: dict[str, str] | None = None):
        self.db, self.log, self.port = db, log, free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.extra_env = env or {}
        self.process: subprocess.Popen | None = None

    def start(self, timeout: float = 60) -> StreamlitServer:
        # Open mode unless the test asks for an editor password.
        env = {k: v for k, v in os.environ.items() if k != "LODESTAR_EDITOR_PASSWORD"}
        env.update({"LODESTAR_DB": str(self.db), **self.extra_env})
        command = [sys.executable, "-m", "streamlit", "run", "app.py",
                   "--server.port", str(self.port), "--server.address", "127.0.0.1",
                   "--server.headless", "true", "--browser.gatherUsageStats", "false"]
        with open(self.log, "wb") as out:
            # Its own process group, so stop() ends the server and nothing else.
            self.process = subprocess.Popen(command, cwd=ROOT, env=env, stdout=out,
                                            stderr=subprocess.STDOUT, start_new_session=True,
                                            preexec_fn=_die_with_parent)
        self.wait_until_ready(timeout)
        return self

    def wait_until_ready(self, timeout: float) -> None:
        """Returns once the health endpoint answers "ok"; raises with the log otherwise."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"streamlit exited with {self.process.returncode}:\n{self.output()}")
            try:
                with urllib.request.urlopen(f"{self.url}/_stcore/health", timeout=2) as response:
                    if response.read().strip() == b"ok":
                        return
            except OSError:
                pass
            time.sleep(0.25)
        self.stop()
        raise TimeoutError(f"streamlit did not answer within {timeout:.0f} s:\n{self.output()}")

    def stop(self) -> None:
        """Ends the server's process group (TERM, then KILL after 10 s). Safe to call twice."""
        if self.process is None or self.process.poll() is not None:
            return
        try:
            os.killpg(self.process.pid, signal.SIGTERM)
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait(timeout=10)
        except ProcessLookupError:
            pass

    def output(self) -> str:
        return self.log.read_text(errors="replace")[-4000:] if self.log.exists() else ""


def _libc_prctl():
    try:
        return ctypes.CDLL(None, use_errno=True).prctl
    except (OSError, AttributeError):   # not Linux: stop() and the finalisers still apply
        return None


_PRCTL = _libc_prctl()     # looked up here, not in the forked child (no loader locks there)
PR_SET_PDEATHSIG = 1


def _die_with_parent() -> None:
    # Runs in the child before exec: if the test process is killed (a CI timeout,
    # SIGKILL) no finaliser runs, so Linux ends the server with it.
    if _PRCTL is not None:
        _PRCTL(PR_SET_PDEATHSIG, signal.SIGTERM)


def launch_chromium(playwright):
    """Headless Debian chromium through playwright (no downloaded browsers)."""
    return playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS,
                                      headless=True)


@contextlib.contextmanager
def running_chromium():
    """A launched chromium for a module's tests, closed after them."""
    from playwright import sync_api
    with sync_api.sync_playwright() as playwright:
        chromium = launch_chromium(playwright)
        try:
            yield chromium
        finally:
            chromium.close()


def png_size(data: bytes) -> tuple[int, int]:
    """(width, height) from a PNG's IHDR chunk; refuses non-PNG bytes (ValueError)."""
    if data[:8] != PNG_MAGIC or data[12:16] != b"IHDR":
        raise ValueError("not a PNG file")
    return struct.unpack(">II", data[16:24])
