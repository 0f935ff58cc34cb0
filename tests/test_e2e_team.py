"""The team server end to end, as `make team` runs it: PostgreSQL, two dashboard
replicas and HAProxy with sticky sessions (deploy/team.py, started as a
process), driven by headless Chromium through the proxy.

Two browsers land on different replicas and each stays on its own (its
websocket, an editor's sign-in and a file upload all reach the process that
holds its session); an import through the command line and one uploaded on
one replica both show on the other at its next rerun; the viewers' role cannot
write even where a session tries; Ctrl-C stops everything; and no log holds a
password.

Skipped without HAProxy or PostgreSQL unless $LODESTAR_REQUIRE_POSTGRES=1 (CI).
"""
from __future__ import annotations

import contextlib
import io
import os
import re
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pytest

from deploy.postgres import OWNER, VIEWER, role_url
from deploy.team import missing_tools
from tests.conftest import FIXTURES
from tests.e2e_support import CHROMIUM, ROOT, free_port
from tests.postgres_server import required

# The browser fixture is shared (module-scoped there, so one Chromium per module).
from tests.test_e2e import browser, import_on_define, screenshot, settled  # noqa: F401

pytestmark = [
    pytest.mark.e2e,
    pytest.mark.skipif(not CHROMIUM.exists(), reason="needs Debian's chromium at /usr/bin/chromium "
                       "(.ci/run installs it: apt-get install -y chromium)"),
]
pytest.importorskip("playwright.sync_api")
psycopg = pytest.importorskip("psycopg")

VIEWPORT = {"width": 1440, "height": 900}
WAIT_MS = 60_000
START_SECONDS = 180
COOKIE = "LODESTAR_REPLICA"
UPLOAD = FIXTURES / "e2e" / "webinar_signups.csv"
WRONG_PASSWORD = "not-the-editor-password-" + secrets.token_hex(4)


class Team:
    """`python -m deploy.team` on free ports in a folder of its own."""

    def __init__(self, folder: Path):
        self.folder, self.port, self.pg_port = folder, free_port(), free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.output = folder / "team.out"
        self.editor_password = "team " + secrets.token_urlsafe(12)
        self.process: subprocess.Popen | None = None

    def start(self) -> Team:
        env = {k: v for k, v in os.environ.items()
               if not k.startswith(("LODESTAR_", "STREAMLIT_"))}
        env["LODESTAR_EDITOR_PASSWORD"] = self.editor_password
        command = [sys.executable, "-m", "deploy.team", "--replicas", "2", "--port",
                   str(self.port), "--pg-port", str(self.pg_port), "--folder", str(self.folder)]
        with open(self.output, "wb") as out:
            self.process = subprocess.Popen(command, cwd=ROOT, env=env, stdout=out,
                                            stderr=subprocess.STDOUT)
        deadline = time.monotonic() + START_SECONDS
        while "Ctrl-C stops" not in self.text():
            if self.process.poll() is not None or time.monotonic() > deadline:
                self.stop()
                raise RuntimeError(f"make team did not start:\n{self.text()}")
            time.sleep(0.5)
        return self

    def text(self) -> str:
        return self.output.read_text(errors="replace") if self.output.exists() else ""

    def secret(self, name: str) -> str:
        return (self.folder / "secrets" / name).read_text().strip()

    def role_url(self, role: str) -> str:
        """The URL a role connects with (its password as make team kept it)."""
        kept = "database-password" if role == OWNER else "viewer-password"
        return role_url(role, self.secret(kept), self.pg_port)

    def stop(self) -> int | None:
        """Ctrl-C, as a person stops `make team`; its exit code."""
        if self.process is None:
            return None
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGINT)
            try:
                self.process.wait(timeout=60)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        return self.process.returncode

    def logs(self) -> dict[str, str]:
        files = [self.output, *sorted((self.folder / "logs").glob("*.log")),
                 self.folder / "postgres" / "server.log"]
        return {p.name: p.read_text(errors="replace") for p in files if p.exists()}


@pytest.fixture(scope="module")
def team():
    if problem := missing_tools():
        if required():
            pytest.fail(f"LODESTAR_REQUIRE_POSTGRES is set but {problem}")
        pytest.skip(problem)
    # Not under pytest's temporary folder: that one is private to root, and the
    # server runs as the postgres user, which must reach its own folder inside.
    folder = Path(tempfile.mkdtemp(prefix="lodestar-team-"))
    folder.chmod(0o711)
    running = Team(folder)
    try:
        running.start()
        load_demo(running.role_url(OWNER))
        yield running
    finally:
        running.stop()
        shutil.rmtree(folder, ignore_errors=True)


def cli(*args: str) -> str:
    """The command line, in this process (as tests/test_cli.py runs it)."""
    from kpi_logic.cli.main import main
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        code = main(list(args))
    assert code == 0, f"python -m kpi_logic {' '.join(args[2:])} ended with {code}"
    return out.getvalue()


def load_demo(url: str) -> None:
    cli("--db", url, "demo")


@pytest.fixture(scope="module")
def readers(team, browser):
    """Two browsers (contexts: cookies of their own) opened on the overview through the proxy."""
    pages = []
    for _ in range(2):
        context = browser.new_context(viewport=VIEWPORT)
        page = context.new_page()
        page.set_default_timeout(WAIT_MS)
        page.goto(team.url + "/")
        settled(page, "Needs attention")
        pages.append(page)
    yield pages
    for page in pages:
        page.context.close()


def replica(page) -> str:
    """The replica HAProxy pinned this browser to (its sticky cookie)."""
    return {c["name"]: c["value"] for c in page.context.cookies()}.get(COOKIE, "")


def catalogue_shows(page, search: str, expected: str) -> None:
    """Types `search` into the catalogue's search box (a rerun of this browser's
    session) and waits until the page shows `expected` (a regular expression)."""
    box = page.get_by_role("textbox", name="Search")
    box.fill(search)
    box.press("Enter")
    page.get_by_text(re.compile(expected)).first.wait_for()


def listening(port: int) -> bool:
    with socket.socket() as probe:
        return probe.connect_ex(("127.0.0.1", port)) == 0


# ---------------------------------------------------------------- tests

def test_two_browsers_land_on_different_replicas_and_see_the_overview(team, readers):
    assert sorted(replica(page) for page in readers) == ["replica1", "replica2"]
    for page in readers:
        assert "Viewer mode" in page.locator("[data-testid=stSidebar]").inner_text()
        assert page.locator("[data-testid=stException]").count() == 0
        assert "Traceback" not in page.content()
    screenshot(readers[0], "team-overview", VIEWPORT)


def test_a_cli_import_shows_on_both_replicas_at_their_next_rerun(team, readers, tmp_path):
    pinned = [replica(page) for page in readers]
    for page in readers:
        # The sidebar's link switches page inside the session (no new connection).
        page.get_by_role("link", name="Metrics catalogue").click()
        settled(page, "Every metric with how it is calculated")
        catalogue_shows(page, "team_e2e", "^No metric matches")
    history = tmp_path / "team_e2e_calls.csv"
    history.write_text("date,metric,value,department\n2026-09-01,team_e2e_calls,40,Sales\n"
                       "2026-10-01,team_e2e_calls,55,Sales\n")
    cli("--db", team.role_url(OWNER), "import", str(history))
    for page in readers:
        catalogue_shows(page, "team_e2e_calls", r"^1 metrics · ")
    assert [replica(page) for page in readers] == pinned


def test_an_editor_signs_in_and_uploads_on_one_replica_and_the_other_shows_it(team, readers):
    editor, other = readers
    pinned = replica(editor)
    editor.get_by_role("button", name=re.compile("Editor sign-in")).click()
    editor.get_by_label("Editor password").fill(WRONG_PASSWORD)
    editor.get_by_role("button", name="Unlock editing").click()
    editor.get_by_text("That password is not right.").wait_for()
    editor.get_by_label("Editor password").fill(team.editor_password)
    editor.get_by_role("button", name="Unlock editing").click()
    nav = editor.locator("[data-testid=stSidebarNav]")
    nav.get_by_text("Import and define").click()
    settled(editor, "Import and define")
    # The upload is a request of its own (POST /_stcore/upload_file): it must
    # reach the replica holding this session, or the file is unknown there.
    import_on_define(editor, UPLOAD)
    editor.get_by_text("Imported 1 table(s): 6 value(s)", exact=False).wait_for()
    assert replica(editor) == pinned
    catalogue_shows(other, "webinar_signups", r"^1 metrics · ")
    with psycopg.connect(team.role_url(VIEWER)) as con:
        stored = con.execute("select count(*) from observations where metric = 'webinar_signups'"
                             " and superseded_by is null").fetchone()[0]
    assert stored == 6


def test_the_viewers_role_reads_but_cannot_write_even_when_a_session_asks_to(team):
    with psycopg.connect(team.role_url(VIEWER)) as con:
        batches = con.execute("select count(*) from batches").fetchone()[0]
        assert batches >= 2
    with psycopg.connect(team.role_url(VIEWER), autocommit=True) as con:
        # What a careless session could do: leave the read-only default behind.
        con.execute("set default_transaction_read_only = off")
        for statement in ("delete from observations", "delete from settings",
                          "create table intruder (x int)", "drop table batches"):
            with pytest.raises((psycopg.errors.InsufficientPrivilege,
                                psycopg.errors.ReadOnlySqlTransaction)):
                con.execute(statement)
    with psycopg.connect(team.role_url(OWNER)) as con:
        assert con.execute("select count(*) from batches").fetchone()[0] == batches


def replica_ports(team) -> dict[str, int]:
    """Each replica's port, from the proxy configuration make team wrote."""
    servers = re.findall(r"server (replica\d+) 127\.0\.0\.1:(\d+)",
                         (team.folder / "haproxy.cfg").read_text())
    return {name: int(port) for name, port in servers}


def stop_replica(port: int) -> None:
    """SIGTERM to the `streamlit run` serving `port` (found by its command line)."""
    wanted = f"--server.port\0{port}\0".encode()
    for cmdline in Path("/proc").glob("[0-9]*/cmdline"):
        try:
            if b"streamlit" in (text := cmdline.read_bytes()) and wanted in text:
                os.kill(int(cmdline.parent.name), signal.SIGTERM)
                return
        except (OSError, ValueError):
            continue        # a process that ended meanwhile
    raise AssertionError(f"no streamlit serves port {port}")


def test_a_browser_whose_replica_stops_is_served_by_the_other(team, readers):
    page, other = readers
    lost, kept = replica(page), replica(other)
    stop_replica(replica_ports(team)[lost])
    deadline = time.monotonic() + 60
    while listening(replica_ports(team)[lost]) and time.monotonic() < deadline:
        time.sleep(0.2)
    # The browser comes back (its sticky cookie names the stopped replica): the
    # proxy sends it to the other one, where it starts a new session.
    page.goto(team.url + "/")
    settled(page, "Needs attention")
    assert replica(page) == kept
    assert page.locator("[data-testid=stException]").count() == 0
    assert f"{lost} stopped" in team.text() and team.process.poll() is None


def test_ctrl_c_stops_the_proxy_the_replicas_and_postgresql(team, readers):
    ports = list(replica_ports(team).values())
    assert len(ports) == 2
    for page in readers:
        page.context.close()
    assert team.stop() == 0
    still = [port for port in (team.port, team.pg_port, *ports) if listening(port)]
    assert still == [], f"still listening after Ctrl-C: {still}"
    assert "Stopping the proxy, the replicas and PostgreSQL" in team.text()


def test_no_log_holds_a_password(team):
    assert team.stop() == 0       # stopped: every log is complete
    logs = team.logs()
    assert {"team.out", "replica1.log", "replica2.log", "haproxy.log", "server.log"} <= set(logs)
    # The logs do speak of what the secrets guard: the URL (redacted) and the sign-ins.
    assert f"lodestar:***@127.0.0.1:{team.pg_port}/lodestar" in logs["team.out"]
    assert "Wrong editor password" in logs["replica1.log"] + logs["replica2.log"]
    kept = [team.secret(name) for name in ("database-password", "viewer-password",
                                           "cookie-secret")]
    for text in (*kept, team.editor_password, WRONG_PASSWORD):
        found = [name for name, log in logs.items() if text in log]
        assert found == [], f"a secret is written in {found}"
