"""The daily digest: its words (kpi_logic/output/digest.py), its settings from
the environment, and `python -m kpi_logic digest` sending to a real SMTP server
on this machine (aiosmtpd, with and without a login) and POSTing to a real HTTP
server (http.server in a thread). Off by default: nothing is sent unless
configured. A password or a webhook's secret path never shows in what the
command prints or in a log record."""
from __future__ import annotations

import email
import email.policy
import json
import logging
import socket
import threading
from datetime import date
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword

from kpi_logic.domain.errors import InputError
from kpi_logic.metrics.alerts import alert
from kpi_logic.output.delivery import digest_settings, redacted_url
from kpi_logic.output.digest import digest
from kpi_logic.store import open_store
from tests.test_alert_commands import WINDOW, fill
from tests.test_cli import run, run_json

PASSWORD = "pa55-Wörd-7f3c"           # beyond ASCII: smtplib's login cannot send it, AUTH PLAIN in UTF-8 can
ASCII_PASSWORD = "plain-Secret-9q"
SECRET_PATH = "/services/T000/B000/XyZsecret42"
VARIABLES = ("LODESTAR_SMTP_HOST", "LODESTAR_SMTP_PORT", "LODESTAR_SMTP_USER",
             "LODESTAR_SMTP_PASSWORD", "LODESTAR_SMTP_FROM", "LODESTAR_DIGEST_TO",
             "LODESTAR_SMTP_STARTTLS", "LODESTAR_DIGEST_WEBHOOK_URL")


@pytest.fixture(autouse=True)
def unconfigured(monkeypatch):
    """No digest setting leaks in from the shell running the tests."""
    for name in VARIABLES:
        monkeypatch.delenv(name, raising=False)


@pytest.fixture
def company(databases):
    return databases.shared("alerts-company", fill)


@pytest.fixture
def empty(databases):
    """A database with Lodestar's tables and nothing in them."""
    return databases.shared("alerts-empty", fill_empty)


def fill_empty(location) -> None:
    with open_store(location):
        pass


# ---------------------------------------------------------------- the words

SOME = [alert("kpi_worse", "high", "Sales", "Leads", "2026-11",
              "Sales: Leads went from healthy in Oct 2026 to unhealthy in Nov 2026"),
        alert("stale", "medium", "R&D <lab>", "R&D <lab>", "2026-11-20",
              "R&D <lab>: <script>alert(1)</script> has had no new data since 20 Nov 2026"),
        alert("unassigned", "low", None, "KPIs without a department", None,
              "1 KPI belongs to no department")]


def test_the_digest_says_the_date_the_counts_and_each_alert():
    made = digest(SOME, date(2026, 12, 7), date(2026, 11, 30))
    assert made.subject == "Lodestar digest 7 Dec 2026: 1 high, 1 medium, 1 low"
    assert made.text.splitlines() == [
        "Lodestar alerts as of 7 Dec 2026, changes since 30 Nov 2026.", "",
        "Needs attention (1)",
        "- Sales: Leads went from healthy in Oct 2026 to unhealthy in Nov 2026", "",
        "Keep an eye on (1)",
        "- R&D <lab>: <script>alert(1)</script> has had no new data since 20 Nov 2026", "",
        "For the record (1)", "- 1 KPI belongs to no department"]


def test_data_text_is_escaped_in_the_html_part_and_the_slack_text():
    made = digest(SOME, date(2026, 12, 7), date(2026, 11, 30))
    assert "<script>" not in made.html and "<lab>" not in made.html
    assert "R&amp;D &lt;lab&gt;: &lt;script&gt;alert(1)&lt;/script&gt;" in made.html
    assert "<" not in made.payload["text"] and "R&amp;D &lt;lab&gt;" in made.payload["text"]
    assert made.payload["alerts"] == SOME       # the JSON carries the data as it is
    assert (made.payload["as_of"], made.payload["since"]) == ("2026-12-07", "2026-11-30")


def test_an_all_clear_digest():
    made = digest([], date(2026, 12, 7), date(2026, 11, 30))
    assert made.subject == "Lodestar digest 7 Dec 2026: all clear"
    assert "Nothing needs attention." in made.text.splitlines()


# ---------------------------------------------------------------- settings

def test_nothing_configured_is_off():
    settings = digest_settings({})
    assert not settings.email and not settings.webhook


def test_settings_from_the_environment():
    settings = digest_settings({"LODESTAR_SMTP_HOST": "smtp.example.com", "LODESTAR_SMTP_USER": "bot",
                                "LODESTAR_SMTP_PASSWORD": PASSWORD,
                                "LODESTAR_DIGEST_TO": "Ann <ann@example.com>, bo@example.com",
                                "LODESTAR_DIGEST_WEBHOOK_URL": "https://hooks.example.com" + SECRET_PATH})
    # a login without STARTTLS would send the password in the clear: on unless switched off
    assert (settings.smtp_port, settings.starttls, settings.sender) == (587, True, "bot")
    assert settings.recipients == ("ann@example.com", "bo@example.com")
    assert PASSWORD not in repr(settings) and SECRET_PATH not in repr(settings)
    assert redacted_url(settings.webhook_url) == "https://hooks.example.com/…"


@pytest.mark.parametrize("environ, message", [
    ({"LODESTAR_SMTP_HOST": "smtp.example.com"}, "LODESTAR_DIGEST_TO names nobody"),
    ({"LODESTAR_SMTP_HOST": "h", "LODESTAR_DIGEST_TO": "a@b.c", "LODESTAR_SMTP_PORT": "smtp"},
     "LODESTAR_SMTP_PORT 'smtp' is not a port number"),
    ({"LODESTAR_SMTP_HOST": "h", "LODESTAR_DIGEST_TO": "a@b.c", "LODESTAR_SMTP_STARTTLS": "maybe"},
     "LODESTAR_SMTP_STARTTLS 'maybe' is neither yes nor no"),
    ({"LODESTAR_DIGEST_WEBHOOK_URL": "file:///etc/passwd"}, "is not an http:// or https:// address"),
])
def test_bad_settings_are_refused(environ, message):
    with pytest.raises(InputError, match=message):
        digest_settings(environ)


# ---------------------------------------------------------------- a real SMTP server

class Inbox:
    """aiosmtpd's handler: keeps every message it receives, with its envelope."""

    def __init__(self):
        self.received: list[tuple[str, list[str], email.message.EmailMessage]] = []

    async def handle_DATA(self, server, session, envelope):
        message = email.message_from_bytes(envelope.original_content, policy=email.policy.default)
        self.received.append((envelope.mail_from, list(envelope.rcpt_tos), message))
        return "250 Message accepted for delivery"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def check_login(server, session, envelope, mechanism, auth_data):
    ok = isinstance(auth_data, LoginPassword) and auth_data.login == b"bot" \
        and auth_data.password in (PASSWORD.encode(), ASCII_PASSWORD.encode())
    return AuthResult(success=ok, handled=False)     # not handled: the server answers 535 itself


@pytest.fixture
def smtp_sink():
    """An SMTP server on 127.0.0.1 taking a login (bot / PASSWORD) over plain text,
    as a local relay may; yields (port, inbox)."""
    inbox = Inbox()
    controller = Controller(inbox, hostname="127.0.0.1", port=free_port(),
                            authenticator=check_login, auth_require_tls=False)
    controller.start()
    yield controller.port, inbox
    controller.stop()


def smtp_env(port: int, **more) -> dict:
    return {"LODESTAR_SMTP_HOST": "127.0.0.1", "LODESTAR_SMTP_PORT": str(port),
            "LODESTAR_SMTP_FROM": "Lodestar <lodestar@example.com>",
            "LODESTAR_DIGEST_TO": "ann@example.com, bo@example.com",
            "LODESTAR_SMTP_STARTTLS": "no", **more}


def test_the_digest_by_email(company, smtp_sink):
    port, inbox = smtp_sink
    done = run(company, "digest", *WINDOW, **smtp_env(port))
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == ("Sent the digest (2 high, 2 medium): by e-mail to "
                                   f"ann@example.com, bo@example.com through 127.0.0.1:{port}.")
    [(sender, recipients, message)] = inbox.received
    assert (sender, recipients) == ("lodestar@example.com", ["ann@example.com", "bo@example.com"])
    assert message["Subject"] == "Lodestar digest 7 Dec 2026: 2 high, 2 medium"
    assert message["To"] == "ann@example.com, bo@example.com"
    plain = message.get_body(("plain",)).get_content().splitlines()
    expected = run_json(company, "alerts", *WINDOW)
    assert plain[0] == "Lodestar alerts as of 7 Dec 2026, changes since 30 Nov 2026."
    assert [line for line in plain if line.startswith("- ")] == [f"- {a['text']}" for a in expected]
    html = message.get_body(("html",)).get_content()
    assert "Sell more: &quot;Book 120 demos&quot; fell behind pace" in html


@pytest.mark.parametrize("password", [PASSWORD, ASCII_PASSWORD])
def test_a_login_and_the_password_never_printed_or_logged(company, smtp_sink, caplog, password):
    port, inbox = smtp_sink
    caplog.set_level(logging.DEBUG, logger="kpi_logic")
    done = run(company, "--debug", "digest", *WINDOW,
               **smtp_env(port, LODESTAR_SMTP_USER="bot", LODESTAR_SMTP_PASSWORD=password))
    assert done.returncode == 0, done.stderr
    assert len(inbox.received) == 1
    assert any("digest sent by e-mail" in r.getMessage() for r in caplog.records)
    for text in [done.stdout, done.stderr] + [r.getMessage() for r in caplog.records]:
        assert password not in text


@pytest.mark.parametrize("password", [PASSWORD, ASCII_PASSWORD])
def test_a_refused_login_is_one_sentence_exit_1_and_a_traceback_without_the_password(
        company, smtp_sink, caplog, password):
    port, inbox = smtp_sink
    wrong = password + "-wrong"
    done = run(company, "digest", *WINDOW,
               **smtp_env(port, LODESTAR_SMTP_USER="bot", LODESTAR_SMTP_PASSWORD=wrong))
    assert done.returncode == 1
    assert inbox.received == []
    assert done.stderr.splitlines() == [
        f"Error: Could not send the digest by e-mail through 127.0.0.1:{port}: the server "
        "refused the user name or password (535). (--debug shows the traceback)"]
    [record] = [r for r in caplog.records if r.name == "kpi_logic.output.delivery"]
    assert record.levelno == logging.ERROR and "Traceback" in record.getMessage()
    assert "SMTPAuthenticationError" in record.getMessage()
    for text in [done.stdout, done.stderr, record.getMessage()]:
        assert wrong not in text


def test_no_server_listening_is_a_failed_send(company):
    done = run(company, "digest", *WINDOW, **smtp_env(free_port()))
    assert done.returncode == 1
    assert done.stderr.startswith("Error: Could not send the digest by e-mail through 127.0.0.1:")
    assert "Connection refused" in done.stderr and len(done.stderr.splitlines()) == 1


def test_starttls_asked_of_a_server_without_it_is_refused_not_sent_in_the_clear(company, smtp_sink):
    port, inbox = smtp_sink
    done = run(company, "digest", *WINDOW,
               **smtp_env(port, LODESTAR_SMTP_STARTTLS="yes", LODESTAR_SMTP_USER="bot",
                          LODESTAR_SMTP_PASSWORD=PASSWORD))
    assert done.returncode == 1 and inbox.received == []
    assert "the server does not offer STARTTLS" in done.stderr


def test_off_by_default_sends_nothing(company, smtp_sink):
    port, inbox = smtp_sink
    done = run(company, "digest", *WINDOW)
    assert (done.returncode, done.stdout) == (0, "")
    assert done.stderr.startswith("The digest is off: set LODESTAR_SMTP_HOST and "
                                  "LODESTAR_DIGEST_TO, or LODESTAR_DIGEST_WEBHOOK_URL")
    assert inbox.received == []


def test_off_still_refuses_a_bad_date(company):
    assert run(company, "digest", "--since", "2026-02-30").returncode == 2


def test_a_dry_run_prints_the_digest_and_sends_nothing(company, smtp_sink):
    port, inbox = smtp_sink
    done = run(company, "digest", *WINDOW, "--dry-run", **smtp_env(port))
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert lines[0] == "Subject: Lodestar digest 7 Dec 2026: 2 high, 2 medium"
    assert lines[-1] == ("Dry run: nothing was sent; by e-mail to ann@example.com, bo@example.com "
                         f"through 127.0.0.1:{port}.")
    assert inbox.received == []


def test_nothing_to_say_sends_nothing_unless_all_clear_is_asked(empty, smtp_sink):
    port, inbox = smtp_sink
    done = run(empty, "digest", *WINDOW, **smtp_env(port))
    assert done.returncode == 0 and inbox.received == []
    assert done.stdout.startswith("Nothing needs attention as of 2026-12-07: nothing was sent")
    done = run(empty, "digest", *WINDOW, "--all-clear", **smtp_env(port))
    assert done.returncode == 0, done.stderr
    [(_, _, message)] = inbox.received
    assert message["Subject"] == "Lodestar digest 7 Dec 2026: all clear"


# ---------------------------------------------------------------- a real webhook

class Hook(BaseHTTPRequestHandler):
    """Keeps every POST's path and JSON body (and any GET's path) on the server; answers a
    POST with the server's `status`."""

    def do_POST(self):
        body = self.rfile.read(int(self.headers["Content-Length"]))
        self.server.posted.append((self.path, self.headers["Content-Type"], json.loads(body)))
        self.send_response(self.server.status)
        if 300 <= self.server.status < 400:
            self.send_header("Location", "/elsewhere")
        self.end_headers()
        self.wfile.write(b"ok")

    def do_GET(self):                 # what urllib would send after a redirect
        self.server.posted.append((self.path, None, None))
        self.send_response(200)
        self.end_headers()

    def log_message(self, *args):     # quiet: the test reads what was posted
        pass


@pytest.fixture
def webhook():
    server = ThreadingHTTPServer(("127.0.0.1", 0), Hook)
    server.posted, server.status = [], 200
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server
    server.shutdown()
    server.server_close()


def hook_url(server) -> str:
    return f"http://127.0.0.1:{server.server_address[1]}{SECRET_PATH}?token=abc123def"


def test_the_digest_posted_to_a_webhook(company, webhook, caplog):
    caplog.set_level(logging.DEBUG, logger="kpi_logic")
    done = run(company, "digest", *WINDOW, LODESTAR_DIGEST_WEBHOOK_URL=hook_url(webhook))
    assert done.returncode == 0, done.stderr
    port = webhook.server_address[1]
    assert done.stdout.strip() == ("Sent the digest (2 high, 2 medium): to the webhook "
                                   f"http://127.0.0.1:{port}/….")
    [(path, kind, body)] = webhook.posted
    assert (path, kind) == (SECRET_PATH + "?token=abc123def", "application/json; charset=utf-8")
    assert set(body) == {"as_of", "since", "alerts", "text"}
    assert (body["as_of"], body["since"]) == ("2026-12-07", "2026-11-30")
    assert body["alerts"] == run_json(company, "alerts", *WINDOW)
    assert body["text"].splitlines()[0] == "Lodestar digest 7 Dec 2026: 2 high, 2 medium"
    for text in [done.stdout, done.stderr] + [r.getMessage() for r in caplog.records]:
        assert "XyZsecret42" not in text and "abc123def" not in text


def test_a_webhook_that_answers_an_error_is_a_failed_send_without_its_secret(company, webhook,
                                                                            caplog):
    webhook.status = 500
    done = run(company, "--debug", "digest", *WINDOW, LODESTAR_DIGEST_WEBHOOK_URL=hook_url(webhook))
    assert done.returncode == 1
    port = webhook.server_address[1]
    assert (f"Error: Could not post the digest to the webhook http://127.0.0.1:{port}/…: the "
            "server answered 500 Internal Server Error.") in done.stderr.splitlines()
    [record] = [r for r in caplog.records if r.name == "kpi_logic.output.delivery"]
    assert "HTTPError" in record.getMessage()
    for text in [done.stdout, done.stderr, record.getMessage()]:
        assert "XyZsecret42" not in text and "abc123def" not in text


def test_a_webhook_that_redirects_did_not_receive_the_digest(company, webhook):
    """urllib would follow a 302 with a GET and no body, and call it a success."""
    webhook.status = 302
    done = run(company, "digest", *WINDOW, LODESTAR_DIGEST_WEBHOOK_URL=hook_url(webhook))
    assert done.returncode == 1
    assert "the server answered 302 Found" in done.stderr
    assert len(webhook.posted) == 1             # the POST, and no GET after it


def test_email_and_webhook_together_and_one_failing_does_not_stop_the_other(company, webhook):
    done = run(company, "digest", *WINDOW, LODESTAR_DIGEST_WEBHOOK_URL=hook_url(webhook),
               **smtp_env(free_port()))
    assert done.returncode == 1
    assert len(webhook.posted) == 1
    assert done.stderr.startswith("Error: Could not send the digest by e-mail")
