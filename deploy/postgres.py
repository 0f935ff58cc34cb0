"""A PostgreSQL cluster in a folder of its own, for `make team` and the team
server's tests: Debian's binaries run as an unprivileged user, Lodestar's
database and roles (deploy/roles.sql), and their URLs.

PostgreSQL refuses to run as root, so when we are root its programs run as
the `postgres` user (runuser) and its folder belongs to that user. The
superuser logs in only through the cluster's own socket (peer: the system user
is the role); Lodestar's two roles log in over TCP on 127.0.0.1 with a
password (scram-sha-256), and only to Lodestar's database.
"""
from __future__ import annotations

import base64
import hashlib
import hmac
import logging
import os
import pwd
import secrets
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote

log = logging.getLogger(__name__)

PG_BIN = Path(os.environ.get("LODESTAR_PG_BIN", "/usr/lib/postgresql/15/bin"))
ROLES_SQL = Path(__file__).with_name("roles.sql")
DATABASE, OWNER, VIEWER = "lodestar", "lodestar", "lodestar_viewer"
# Only the superuser, on the socket; Lodestar's roles only to their database, with a password.
PG_HBA = """\
# TYPE  DATABASE  USER                      ADDRESS       METHOD
local   all       {superuser}               peer
host    {database}  {owner},{viewer}  127.0.0.1/32  scram-sha-256
host    {database}  {owner},{viewer}  ::1/128       scram-sha-256
"""


def server_user() -> str:
    """The system user PostgreSQL runs as: `postgres` when we are root, else ourselves."""
    return "postgres" if os.geteuid() == 0 else pwd.getpwuid(os.geteuid()).pw_name


def as_server_user(command: list[str]) -> list[str]:
    return ["runuser", "-u", "postgres", "--", *command] if os.geteuid() == 0 else command


def scram_verifier(password: str, iterations: int = 4096) -> str:
    """What PostgreSQL stores for a scram-sha-256 password (RFC 5802, 7677).
    Sending this instead of the password keeps the password out of the
    server's log, even of a statement that fails."""
    salt = secrets.token_bytes(16)
    salted = hashlib.pbkdf2_hmac("sha256", password.encode(), salt, iterations)
    stored_key = hashlib.sha256(hmac.new(salted, b"Client Key", "sha256").digest()).digest()
    server_key = hmac.new(salted, b"Server Key", "sha256").digest()
    text = lambda raw: base64.b64encode(raw).decode()
    return f"SCRAM-SHA-256${iterations}:{text(salt)}${text(stored_key)}:{text(server_key)}"


def role_url(role: str, password: str, port: int, host: str = "127.0.0.1") -> str:
    return f"postgresql://{quote(role, safe='')}:{quote(password, safe='')}@{host}:{port}/{DATABASE}"


@dataclass(frozen=True)
class Cluster:
    """The cluster in `folder` (data/, the socket, server.log), served on 127.0.0.1:port."""
    folder: Path
    port: int

    @property
    def data(self) -> Path:
        return self.folder / "data"

    @property
    def log(self) -> Path:
        return self.folder / "server.log"

    def _pg(self, program: str, *args: str, **run) -> subprocess.CompletedProcess:
        """Runs one of PostgreSQL's programs as the server's user; RuntimeError with
        what it said when it fails."""
        done = subprocess.run(as_server_user([str(PG_BIN / program), *args]),
                              capture_output=True, text=True, **run)
        if done.returncode:
            raise RuntimeError(f"{program} failed (exit {done.returncode}) for the cluster in "
                               f"{self.folder}:\n{done.stdout}{done.stderr}")
        return done

    def init(self) -> bool:
        """Creates the cluster unless it exists; True when it was created."""
        if (self.data / "PG_VERSION").exists():
            return False
        self.folder.mkdir(parents=True, exist_ok=True)
        if os.geteuid() == 0:
            shutil.chown(self.folder, "postgres", "postgres")
        self.folder.chmod(0o700)
        if subprocess.run(as_server_user(["test", "-w", str(self.folder)])).returncode:
            raise RuntimeError(f"the {server_user()} user cannot reach {self.folder}: every "
                               "folder above it must let others pass (chmod o+x)")
        self._pg("initdb", "-D", str(self.data), "-U", server_user(), "-E", "UTF8",
                 "--locale=C.UTF-8", "--auth-local=peer", "--auth-host=reject")
        hba = PG_HBA.format(superuser=server_user(), database=DATABASE, owner=OWNER, viewer=VIEWER)
        (self.data / "pg_hba.conf").write_text(hba)
        if os.geteuid() == 0:
            shutil.chown(self.data / "pg_hba.conf", "postgres", "postgres")
        return True

    def running(self) -> bool:
        status = subprocess.run(as_server_user([str(PG_BIN / "pg_ctl"), "status", "-D",
                                                str(self.data)]), capture_output=True)
        return status.returncode == 0

    def start(self) -> None:
        """Starts the server (about a second) unless it runs already; on failure
        raises RuntimeError with the end of its log."""
        if self.running():
            log.warning("PostgreSQL in %s was already running: using it", self.data)
            return
        options = f"-p {self.port} -k {self.folder} -c listen_addresses=127.0.0.1"
        try:
            self._pg("pg_ctl", "-D", str(self.data), "-o", options, "-l", str(self.log), "-w",
                     "start")
        except RuntimeError as exc:
            tail = self.log.read_text(errors="replace")[-2000:] if self.log.exists() else ""
            raise RuntimeError(f"PostgreSQL did not start on port {self.port}: {exc}\n"
                               f"{tail}") from None

    def stop(self) -> None:
        if self.running():
            self._pg("pg_ctl", "-D", str(self.data), "-m", "fast", "-w", "stop")

    def psql(self, sql: str, database: str = "postgres") -> str:
        """Runs `sql` (psql syntax) as the superuser over the socket, stopping at
        the first error. The SQL goes on standard input, never on a command line."""
        done = self._pg("psql", "-X", "-q", "-v", "ON_ERROR_STOP=1", "-h", str(self.folder),
                        "-p", str(self.port), "-d", database, "-f", "-", input=sql)
        return done.stdout

    def provision(self, owner_password: str, viewer_password: str) -> None:
        """Lodestar's database and roles (deploy/roles.sql), with these passwords."""
        passwords = "".join(f"alter role {role} password '{scram_verifier(password)}';\n"
                            for role, password in ((OWNER, owner_password),
                                                   (VIEWER, viewer_password)))
        self.psql(ROLES_SQL.read_text() + "\n\\connect postgres\n" + passwords)
