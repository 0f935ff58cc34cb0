"""A throwaway PostgreSQL cluster for the benchmark: Debian's initdb and pg_ctl
(deploy.postgres.PG_BIN, as the `postgres` user when we are root) in a
temporary folder, on a free port of 127.0.0.1, stopped and deleted when the
block ends, also on an error or Ctrl-C.

Unlike the tests' cluster it keeps PostgreSQL's default settings (fsync on,
128 MB of shared buffers): the figures are meant to say what a team's server
does, and durability is part of what an import costs there.
"""
from __future__ import annotations

import os
import shutil
import socket
import subprocess
import tempfile
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator

import psycopg

from deploy.postgres import PG_BIN, as_server_user

# A server that cannot start within this many seconds is reported, not waited for.
START_SECONDS = 60


def missing() -> str | None:
    """Why no cluster can be started here, in words, or None."""
    if not (PG_BIN / "initdb").exists() or not (PG_BIN / "pg_ctl").exists():
        return (f"PostgreSQL is not installed ({PG_BIN}/initdb and pg_ctl are missing; "
                "apt-get install postgresql, or set LODESTAR_PG_BIN)")
    return None


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _pg(program: str, *args: str) -> None:
    done = subprocess.run(as_server_user([str(PG_BIN / program), *args]),
                          capture_output=True, text=True, check=False, timeout=START_SECONDS)
    if done.returncode:
        raise RuntimeError(f"{program} failed (exit {done.returncode}): {done.stdout}{done.stderr}")


@contextmanager
def cluster() -> Iterator[str]:
    """The superuser's URL of a new cluster (trust authentication, 127.0.0.1 only)."""
    folder = Path(tempfile.mkdtemp(prefix="lodestar-bench-pg-"))
    data, port = folder / "data", free_port()
    started = False
    try:
        if os.geteuid() == 0:
            shutil.chown(folder, "postgres")
        _pg("initdb", "-D", str(data), "-A", "trust", "-U", "postgres", "-E", "UTF8",
            "--locale=C.UTF-8", "--no-sync")
        # 200 connections: two replicas' sessions and the bench's own, with room.
        _pg("pg_ctl", "-D", str(data), "-l", str(folder / "log"), "-w", "-t", str(START_SECONDS),
            "-o", f"-p {port} -k {folder} -c listen_addresses=127.0.0.1 -c max_connections=200",
            "start")
        started = True
        yield f"postgresql://postgres@127.0.0.1:{port}/postgres"
    finally:
        if started:
            subprocess.run(as_server_user([str(PG_BIN / "pg_ctl"), "-D", str(data), "-m", "fast",
                                           "-w", "stop"]), capture_output=True, check=False)
        shutil.rmtree(folder, ignore_errors=True)


def new_database(admin_url: str, name: str) -> str:
    """The URL of a new, empty database `name` on the cluster of `admin_url`."""
    with psycopg.connect(admin_url, autocommit=True) as admin:
        admin.execute(f'drop database if exists "{name}" with (force)')
        admin.execute(f'create database "{name}"')
    return admin_url.rsplit("/", 1)[0] + f"/{name}"


def drop_database(admin_url: str, url: str) -> None:
    with psycopg.connect(admin_url, autocommit=True) as admin:
        admin.execute(f'drop database if exists "{url.rsplit("/", 1)[1]}" with (force)')
