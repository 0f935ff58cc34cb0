"""A throwaway PostgreSQL server for the test session, and a fresh database in
it for each test.

The server is $LODESTAR_TEST_POSTGRES_URL when set (an admin URL of a server
someone else runs), else a cluster of our own: Debian's initdb and pg_ctl
(/usr/lib/postgresql/<version>/bin) in a temporary folder, on a free port,
stopped at the end of the session. As root the binaries run as the `postgres`
user, because PostgreSQL refuses to run as root.

Each test gets a database of its own, created from a template database
(CREATE DATABASE ... TEMPLATE copies it in a few milliseconds), so a test sees
exactly the rows it put there, and an expensive state such as the demo
company is loaded once per session.
"""
from __future__ import annotations

import glob
import os
import shutil
import socket
import subprocess
import tempfile
import uuid
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import psycopg

ADMIN_URL_VARIABLE = "LODESTAR_TEST_POSTGRES_URL"
REQUIRE_VARIABLE = "LODESTAR_REQUIRE_POSTGRES"

# Durability is worthless for a cluster that is deleted after the tests, and
# fsync on every commit is most of the time a small test database costs.
_FAST_SETTINGS = ("-c fsync=off -c synchronous_commit=off -c full_page_writes=off "
                  "-c max_connections=200")


class PostgresUnavailable(RuntimeError):
    """No server was given and none can be started here."""


def required() -> bool:
    """Whether a missing PostgreSQL must fail the tests instead of skipping them (CI)."""
    return os.environ.get(REQUIRE_VARIABLE, "") not in ("", "0")


def postgres_binaries() -> Path | None:
    """The newest installed PostgreSQL's bin folder holding initdb and pg_ctl, if any."""
    folders = [Path(p).parent for p in glob.glob("/usr/lib/postgresql/*/bin/initdb")]
    folders = [f for f in folders if (f / "pg_ctl").exists()]
    return max(folders, key=lambda f: int(f.parent.name)) if folders else None


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def with_database(url: str, name: str) -> str:
    """`url` pointing at database `name` (user, password, host, port and query kept)."""
    parts = urlsplit(url)
    return urlunsplit(parts._replace(path=f"/{name}"))


def database_name(name_or_url: str) -> str:
    return urlsplit(name_or_url).path.lstrip("/") if "://" in name_or_url else name_or_url


class PostgresServer:
    """A server the tests may create and drop databases in, through `admin_url`."""

    def __init__(self, admin_url: str, folder: Path | None = None,
                 binaries: Path | None = None):
        self.admin_url = admin_url
        self._folder = folder
        self._binaries = binaries
        # Names carry the process id so sessions sharing one given server never collide.
        self._prefix = f"lodestar_test_{os.getpid()}_"
        self._templates: list[str] = []
        self._blank: str | None = None
        self._blank_shape: tuple | None = None

    @classmethod
    def start(cls) -> PostgresServer:
        """The server to test against: the given admin URL, else a cluster of our own."""
        given = os.environ.get(ADMIN_URL_VARIABLE)
        if given:
            return cls(given)
        binaries = postgres_binaries()
        if binaries is None:
            raise PostgresUnavailable(
                "PostgreSQL is not installed (no /usr/lib/postgresql/*/bin/initdb) and "
                f"${ADMIN_URL_VARIABLE} is not set: install the postgresql package or point "
                f"${ADMIN_URL_VARIABLE} at a server where the tests may create databases")
        # Not under pytest's temporary folder: that one is private to root, and
        # the server runs as the postgres user.
        folder = Path(tempfile.mkdtemp(prefix="lodestar-pg-"))
        port = free_port()
        _as_postgres_owner(folder)
        _run(binaries / "initdb", "-D", str(folder / "data"), "-A", "trust", "-U", "postgres",
             "--no-sync", "-E", "UTF8", "--locale=C.UTF-8")
        _run(binaries / "pg_ctl", "-D", str(folder / "data"), "-l", str(folder / "log"), "-w",
             "-o", f"-p {port} -k {folder} -c listen_addresses=127.0.0.1 {_FAST_SETTINGS}",
             "start")
        return cls(f"postgresql://postgres@127.0.0.1:{port}/postgres", folder, binaries)

    def stop(self) -> None:
        """Drops the template databases; stops and deletes a cluster this session started."""
        if self._binaries is None:
            for url in self._templates:
                self.drop_database(url)
            return
        subprocess.run(_as_postgres([str(self._binaries / "pg_ctl"), "-D",
                                     str(self._folder / "data"), "-m", "immediate", "stop"]),
                       capture_output=True, check=False)
        shutil.rmtree(self._folder, ignore_errors=True)

    def new_name(self) -> str:
        return f"{self._prefix}{uuid.uuid4().hex[:12]}"

    def create_database(self, template: str | None = None) -> str:
        """A new database (a copy of the database `template`, a name or URL, when given);
        returns its URL."""
        name = self.new_name()
        clause = f' template "{database_name(template)}"' if template else ""
        self._admin(f'create database "{name}"{clause}')
        return with_database(self.admin_url, name)

    def template(self, fill) -> str:
        """The URL of a template database made once by fill(url), for create_database(template=...)."""
        url = self.create_database()
        self._templates.append(url)
        fill(url)
        return url

    def blank(self, template: str) -> str:
        """The URL of a database copied from `template` (an empty schema) that tests
        take in turn: reset_blank() empties it after each, which costs a fraction of
        creating a database (the tests that want an empty Store are most of them)."""
        if self._blank is None:
            self._blank = self.create_database(template=template)
            self._blank_shape = _shape(self._blank)
        return self._blank

    def reset_blank(self) -> None:
        """Empties the blank database's tables and restarts its sequences; one whose
        tables or schema version a test changed is dropped, the next test gets a new copy."""
        try:
            if _shape(self._blank) != self._blank_shape:
                raise _Changed
            tables, sequences, _ = self._blank_shape
            with psycopg.connect(self._blank, autocommit=True) as con:
                # A connection a test left open would make truncate wait for ever.
                con.execute("set lock_timeout = '5s'")
                for table in tables:
                    if table != "schema_version":
                        con.execute(f'delete from "{table}"')
                for sequence in sequences:
                    con.execute(f'alter sequence "{sequence}" restart')
        except (psycopg.Error, _Changed):
            self.drop_database(self._blank)
            self._blank = None

    def drop_database(self, name_or_url: str) -> None:
        # with (force): a test that failed may have left a connection open.
        self._admin(f'drop database if exists "{database_name(name_or_url)}" with (force)')

    def _admin(self, statement: str) -> None:
        with psycopg.connect(self.admin_url, autocommit=True) as admin:
            admin.execute(statement)


class _Changed(Exception):
    """A test changed the blank database's schema."""


def _shape(url: str) -> tuple:
    """The tables and sequences of the database's current schema and its schema_version rows."""
    with psycopg.connect(url, autocommit=True) as con:
        names = con.execute("select relname, relkind from pg_class "
                            "where relnamespace = current_schema()::regnamespace "
                            "and relkind in ('r', 'S') order by relname").fetchall()
        version = con.execute("select * from schema_version order by 1").fetchall()
    return (tuple(n for n, kind in names if kind == "r"),
            tuple(n for n, kind in names if kind == "S"), tuple(version))


def _as_postgres(command: list[str]) -> list[str]:
    """`command` run as the postgres user when we are root (initdb and postgres refuse root)."""
    return ["runuser", "-u", "postgres", "--", *command] if os.geteuid() == 0 else command


def _as_postgres_owner(folder: Path) -> None:
    if os.geteuid() == 0:
        shutil.chown(folder, "postgres")


def _run(*command) -> None:
    done = subprocess.run(_as_postgres([str(c) for c in command]), capture_output=True,
                          text=True, check=False)
    if done.returncode:
        raise PostgresUnavailable(f"{Path(str(command[0])).name} failed "
                                  f"(exit {done.returncode}): {done.stdout}{done.stderr}")
