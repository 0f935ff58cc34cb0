"""deploy/: the proxy configuration `make team` writes is one HAProxy accepts,
for any number of replicas, and the replicas' secrets are made once, kept
private and handed over only through the environment."""
from __future__ import annotations

import os
import re
import stat
import subprocess

import pytest

from deploy import team
from tests.postgres_server import required


@pytest.fixture
def haproxy():
    if not os.access(team.HAPROXY, os.X_OK):
        if required():
            pytest.fail("LODESTAR_REQUIRE_POSTGRES is set but HAProxy is not installed")
        pytest.skip("HAProxy is not installed (apt-get install haproxy)")
    return team.HAPROXY


@pytest.mark.parametrize("ports", [[20001], [20001, 20002, 20003]])
def test_the_proxy_configuration_is_valid_and_names_every_replica(haproxy, tmp_path, ports):
    config = tmp_path / "haproxy.cfg"
    config.write_text(team.haproxy_config("127.0.0.1", 18501, ports))
    checked = subprocess.run([haproxy, "-c", "-f", str(config)], capture_output=True, text=True)
    assert checked.returncode == 0, checked.stdout + checked.stderr
    text = config.read_text()
    servers = re.findall(r"^\s+server (\S+) 127\.0\.0\.1:(\d+) cookie (\S+)$", text, re.MULTILINE)
    assert [(name, int(port), cookie) for name, port, cookie in servers] == [
        (f"replica{n}", port, f"replica{n}") for n, port in enumerate(ports, start=1)]
    assert "cookie LODESTAR_REPLICA insert" in text
    assert "option httpchk GET /_stcore/health" in text
    assert "bind 127.0.0.1:18501" in text


def test_secrets_are_made_once_readable_by_their_owner_only(tmp_path, monkeypatch):
    monkeypatch.setattr(team, "ROOT", tmp_path)          # no .streamlit/secrets.toml there
    monkeypatch.delenv("LODESTAR_EDITOR_PASSWORD", raising=False)
    monkeypatch.setenv("LODESTAR_DB", str(tmp_path / "other.duckdb"))
    env = team.replica_environment(tmp_path / "team", 54329)
    again = team.replica_environment(tmp_path / "team", 54329)
    assert env == again
    kept = tmp_path / "team" / "secrets"
    assert stat.S_IMODE(kept.stat().st_mode) == 0o700
    assert {p.name: stat.S_IMODE(p.stat().st_mode) for p in kept.iterdir()} == {
        name: 0o600 for name in ("database-password", "viewer-password", "cookie-secret",
                                 "editor-password")}
    password = (kept / "database-password").read_text()
    assert env["LODESTAR_DATABASE_URL"] == \
        f"postgresql://lodestar:{password}@127.0.0.1:54329/lodestar"
    assert env["LODESTAR_VIEWER_DATABASE_URL"].startswith("postgresql://lodestar_viewer:")
    assert env["LODESTAR_EDITOR_PASSWORD"] == (kept / "editor-password").read_text()
    assert "LODESTAR_DB" not in env        # the URL decides, not a file left in the environment


def test_an_editor_password_set_by_its_owner_is_left_to_the_app(tmp_path, monkeypatch):
    monkeypatch.setattr(team, "ROOT", tmp_path)
    (tmp_path / ".streamlit").mkdir()
    (tmp_path / ".streamlit" / "secrets.toml").write_text('LODESTAR_EDITOR_PASSWORD = "ours"\n')
    monkeypatch.delenv("LODESTAR_EDITOR_PASSWORD", raising=False)
    env = team.replica_environment(tmp_path / "team", 54329)
    assert "LODESTAR_EDITOR_PASSWORD" not in env
    assert not (tmp_path / "team" / "secrets" / "editor-password").exists()
