"""`make team`: Lodestar as a team runs it, on one machine. PostgreSQL in
data/team/postgres, N dashboard replicas (`streamlit run app.py`, each on its
own port on 127.0.0.1) and HAProxy in front of them with sticky sessions on
one port (default 8501). Ctrl-C stops all three.

    python -m deploy.team [--replicas 2] [--port 8501] [--address 127.0.0.1]

Passwords are made once and kept in data/team/secrets/ (readable by this user
only): the database's two roles, the editor password (unless
LODESTAR_EDITOR_PASSWORD is set in the environment or .streamlit/secrets.toml)
and the cookie secret the replicas share. They reach the replicas through
their environment and are never printed: the terminal shows where they are.
The app loads the demo company into the empty database at an editor's first
visit; nothing is loaded here.
"""
from __future__ import annotations

import argparse
import ctypes
import os
import pwd
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import time
import tomllib
import urllib.request
from pathlib import Path
from string import Template

from deploy.postgres import OWNER, PG_BIN, VIEWER, Cluster, role_url

ROOT = Path(__file__).resolve().parents[1]
TEMPLATE = Path(__file__).with_name("haproxy.cfg.template")
HEALTH = "/_stcore/health"
# Debian puts it in /usr/sbin, which a user's PATH may lack.
HAPROXY = shutil.which("haproxy") or "/usr/sbin/haproxy"
START_SECONDS = 90.0


def haproxy_config(address: str, port: int, replica_ports: list[int],
                   run_as: str | None = None) -> str:
    """deploy/haproxy.cfg.template for these ports; `run_as` is the user HAProxy
    switches to once it has bound its port (when started as root)."""
    servers = "\n".join(f"    server replica{n} 127.0.0.1:{replica} cookie replica{n}"
                        for n, replica in enumerate(replica_ports, start=1))
    user = (f"    user {run_as}\n    group {run_as}" if run_as
            else "    # runs as the user who started it")
    return Template(TEMPLATE.read_text()).substitute(address=address, port=port,
                                                     servers=servers, global_user=user)


def kept_secret(folder: Path, name: str) -> str:
    """The secret in folder/name, made (random, readable by this user only) on first use."""
    folder.mkdir(parents=True, exist_ok=True)
    folder.chmod(0o700)
    path = folder / name
    if not path.exists():
        path.touch(mode=0o600)
        path.write_text(secrets.token_urlsafe(24))
    return path.read_text().strip()


def editor_password_set_elsewhere() -> bool:
    """True when the app will find LODESTAR_EDITOR_PASSWORD by itself."""
    if os.environ.get("LODESTAR_EDITOR_PASSWORD"):
        return True
    path = ROOT / ".streamlit" / "secrets.toml"
    try:
        return bool(tomllib.loads(path.read_text()).get("LODESTAR_EDITOR_PASSWORD"))
    except FileNotFoundError:
        return False
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError):
        return True     # the app then locks editing and says why in its log


def replica_environment(folder: Path, pg_port: int) -> dict[str, str]:
    """The environment every replica runs with (secrets included)."""
    kept = folder / "secrets"
    env = {k: v for k, v in os.environ.items() if k != "LODESTAR_DB"}
    env["LODESTAR_DATABASE_URL"] = role_url(OWNER, kept_secret(kept, "database-password"), pg_port)
    env["LODESTAR_VIEWER_DATABASE_URL"] = role_url(VIEWER, kept_secret(kept, "viewer-password"),
                                                   pg_port)
    # Streamlit signs its cookies with this secret (random per process when unset):
    # one for all replicas keeps a cookie one replica signed valid on another.
    env["STREAMLIT_SERVER_COOKIE_SECRET"] = kept_secret(kept, "cookie-secret")
    if not editor_password_set_elsewhere():
        env["LODESTAR_EDITOR_PASSWORD"] = kept_secret(kept, "editor-password")
    return env


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _end_with_parent() -> None:
    # In the child before exec: if this script is killed outright, Linux ends the child too.
    ctypes.CDLL(None).prctl(1, signal.SIGTERM)      # PR_SET_PDEATHSIG


def start_process(command: list[str], log: Path, env: dict[str, str]) -> subprocess.Popen:
    """`command` in its own session (Ctrl-C reaches this script, which stops
    everything in order), its output in `log`."""
    log.parent.mkdir(parents=True, exist_ok=True)
    with open(log, "ab") as out:
        return subprocess.Popen(command, cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT,
                                stdin=subprocess.DEVNULL, start_new_session=True,
                                preexec_fn=_end_with_parent)


def wait_healthy(url: str, process: subprocess.Popen, log: Path) -> None:
    """Returns once url answers "ok"; RuntimeError (with the log's end) if the process ends first."""
    deadline = time.monotonic() + START_SECONDS
    while time.monotonic() < deadline and process.poll() is None:
        try:
            with urllib.request.urlopen(url, timeout=2) as response:
                if response.read().strip() == b"ok":
                    return
        except OSError:
            pass
        time.sleep(0.25)
    raise RuntimeError(f"{url} did not answer (see {log}):\n"
                       f"{log.read_text(errors='replace')[-2000:]}")


def stop_process(process: subprocess.Popen) -> None:
    if process.poll() is None:
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()


def start_replicas(count: int, env: dict[str, str], logs: Path,
                   running: dict[str, subprocess.Popen]) -> list[int]:
    """Starts `count` dashboards on free ports of 127.0.0.1 and waits until each answers."""
    ports = [free_port() for _ in range(count)]
    for n, port in enumerate(ports, start=1):
        running[f"replica{n}"] = start_process(
            [sys.executable, "-m", "streamlit", "run", "app.py", "--server.port", str(port),
             "--server.address", "127.0.0.1", "--server.headless", "true",
             "--browser.gatherUsageStats", "false"], logs / f"replica{n}.log", env)
    for n, port in enumerate(ports, start=1):
        wait_healthy(f"http://127.0.0.1:{port}{HEALTH}", running[f"replica{n}"],
                     logs / f"replica{n}.log")
    return ports


def start_proxy(args, replica_ports: list[int], running: dict[str, subprocess.Popen]) -> None:
    as_root = os.geteuid() == 0 and _user_exists("haproxy")
    config = args.folder / "haproxy.cfg"
    config.write_text(haproxy_config(args.address, args.port, replica_ports,
                                     "haproxy" if as_root else None))
    log = args.folder / "logs" / "haproxy.log"
    # The proxy needs none of the secrets the environment may hold.
    running["proxy"] = start_process([HAPROXY, "-db", "-f", str(config)], log,
                                     {"PATH": os.environ.get("PATH", "/usr/sbin:/usr/bin")})
    host = "127.0.0.1" if args.address in ("0.0.0.0", "::") else args.address
    wait_healthy(f"http://{host}:{args.port}{HEALTH}", running["proxy"], log)


def _user_exists(name: str) -> bool:
    try:
        pwd.getpwnam(name)
        return True
    except KeyError:
        return False


def missing_tools() -> str | None:
    """What must be installed first, in words, or None."""
    if not (PG_BIN / "pg_ctl").exists():
        return (f"PostgreSQL's programs are not in {PG_BIN}: install Debian's postgresql "
                "(apt-get install postgresql) or set LODESTAR_PG_BIN to their folder.")
    if not os.access(HAPROXY, os.X_OK):
        return "HAProxy is not installed: apt-get install haproxy"
    return None


def write_cli_environment(folder: Path, env: dict[str, str]) -> Path:
    """secrets/team.env: the database URL for the command line, readable by this user only."""
    path = folder / "secrets" / "team.env"
    path.touch(mode=0o600)
    path.write_text(f"LODESTAR_DATABASE_URL={env['LODESTAR_DATABASE_URL']}\n")
    return path


def summary(args, replica_ports: list[int], env: dict[str, str], env_file: Path) -> str:
    from kpi_logic.store import redacted  # the engine, only for its way of hiding a password
    host = "127.0.0.1" if args.address in ("0.0.0.0", "::") else args.address
    editor = ("set by you (LODESTAR_EDITOR_PASSWORD)" if editor_password_set_elsewhere()
              else f"in {args.folder / 'secrets' / 'editor-password'}")
    return "\n".join([
        f"Lodestar for a team: http://{host}:{args.port}  (HAProxy, sticky sessions)",
        f"  replicas:  {len(replica_ports)} on 127.0.0.1 ports {', '.join(map(str, replica_ports))}",
        f"  database:  {redacted(env['LODESTAR_DATABASE_URL'])}",
        f"  viewers:   {redacted(env['LODESTAR_VIEWER_DATABASE_URL'])} (may only read)",
        f"  editor password: {editor}",
        f"  command line: set -a; . {env_file}; set +a; python -m kpi_logic batches",
        f"  logs:      {args.folder / 'logs'}, {args.folder / 'postgres' / 'server.log'}",
        "Ctrl-C stops the proxy, the replicas and PostgreSQL.",
    ])


def parse(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="make team", description=__doc__.split("\n\n")[0])
    parser.add_argument("--replicas", type=int, default=2, help="dashboard processes (default 2)")
    parser.add_argument("--port", type=int, default=8501, help="the proxy's port (default 8501)")
    parser.add_argument("--address", default="127.0.0.1",
                        help="the proxy's address (0.0.0.0: every network interface)")
    parser.add_argument("--pg-port", type=int, default=54329, help="PostgreSQL's port on 127.0.0.1")
    parser.add_argument("--folder", type=Path, default=ROOT / "data" / "team",
                        help="where the cluster, secrets, logs and proxy configuration live")
    args = parser.parse_args(argv)
    if args.replicas < 1:
        parser.error("--replicas must be at least 1")
    args.folder = args.folder.resolve()
    return args


def run_team(args, cluster: Cluster, running: dict[str, subprocess.Popen]) -> None:
    """PostgreSQL, its database and roles, the replicas, then the proxy; prints where they are."""
    env = replica_environment(args.folder, args.pg_port)
    if cluster.init():
        print(f"Created a PostgreSQL cluster in {cluster.data}")
    cluster.start()
    kept = args.folder / "secrets"
    cluster.provision(kept_secret(kept, "database-password"), kept_secret(kept, "viewer-password"))
    ports = start_replicas(args.replicas, env, args.folder / "logs", running)
    start_proxy(args, ports, running)
    print(summary(args, ports, env, write_cli_environment(args.folder, env)), flush=True)


def watch(running: dict[str, subprocess.Popen]) -> str:
    """Returns, in words, once the proxy or the last replica has ended. A replica
    that ends before is said and left: the proxy's health check sends its
    browsers to the others, as it would on real servers."""
    ended: set[str] = set()
    while True:
        for name, process in running.items():
            if name in ended or process.poll() is None:
                continue
            ended.add(name)
            if name == "proxy":
                return f"the proxy stopped (exit code {process.returncode})"
            print(f"{name} stopped (exit code {process.returncode}); the proxy sends its "
                  "browsers to the other replicas.", file=sys.stderr, flush=True)
        if ended >= set(running) - {"proxy"}:
            return "every replica stopped"
        time.sleep(0.5)


def _interrupted(signum, frame):
    raise KeyboardInterrupt


def main(argv: list[str] | None = None) -> int:
    args = parse(argv)
    if problem := missing_tools():
        print(problem, file=sys.stderr)
        return 2
    # Ctrl-C too: a shell that starts `make team &` leaves SIGINT ignored, Python's handler unset.
    for stop_signal in (signal.SIGINT, signal.SIGTERM):
        signal.signal(stop_signal, _interrupted)
    cluster = Cluster(args.folder / "postgres", args.pg_port)
    running: dict[str, subprocess.Popen] = {}
    try:
        run_team(args, cluster, running)
        ended = watch(running)
        print(f"{ended.capitalize()}: see {args.folder / 'logs'}. Stopping the team.",
              file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("\nStopping the proxy, the replicas and PostgreSQL.")
        return 0
    except RuntimeError as exc:
        print(f"The team did not start: {exc}", file=sys.stderr)
        return 1
    finally:
        for process in reversed(running.values()):
            stop_process(process)
        cluster.stop()


if __name__ == "__main__":
    sys.exit(main())
