"""Sending the daily digest: by e-mail through an SMTP server and/or as a JSON POST
to a webhook, each only when configured through the environment (off by default).
The standard library only: smtplib, email, urllib.request.

Secrets stay out of everything printed or logged: the SMTP password is never
shown, and a webhook URL (whose path or query usually is the secret) is shown as
its scheme and host only (redacted_url). A failed send raises DeliveryError, one
sentence; the traceback, secrets replaced, goes to this module's log.
"""
from __future__ import annotations

import base64
import json
import logging
import smtplib
import socket
import ssl
import traceback
import urllib.error
import urllib.request
from collections.abc import Mapping
from dataclasses import dataclass, field
from email.message import EmailMessage
from email.utils import formatdate, getaddresses, make_msgid
from urllib.parse import urlsplit

from kpi_logic.domain.errors import InputError
from kpi_logic.output.digest import Digest

log = logging.getLogger(__name__)
# The command line prints one sentence for a failed send; the traceback is for
# --debug and for whatever log a deployment configures, not for stderr by default.
log.addHandler(logging.NullHandler())

TIMEOUT_SECONDS = 30
TRUE_WORDS, FALSE_WORDS = ("1", "true", "yes", "on"), ("0", "false", "no", "off", "")


class DeliveryError(Exception):
    """A digest that could not be sent, in one sentence without secrets."""


@dataclass(frozen=True)
class DigestSettings:
    """Where the digest goes (digest_settings reads it from the environment)."""
    smtp_host: str | None = None
    smtp_port: int = 25
    smtp_user: str | None = None
    smtp_password: str | None = field(default=None, repr=False)
    sender: str = "lodestar@localhost"
    recipients: tuple[str, ...] = ()
    starttls: bool = False
    webhook_url: str | None = field(default=None, repr=False)

    @property
    def email(self) -> bool:
        return bool(self.smtp_host)

    @property
    def webhook(self) -> bool:
        return bool(self.webhook_url)

    def secrets(self) -> tuple[str, ...]:
        """Text that must never be printed or logged: the password, the webhook URL
        and the parts of it past the host."""
        url = self.webhook_url or ""
        parts = urlsplit(url)
        tail = [p for p in (parts.path.strip("/"), parts.query, parts.netloc.rpartition("@")[0])
                if len(p) > 3]
        return tuple(s for s in (self.smtp_password, url, *tail) if s)


def digest_settings(environ: Mapping[str, str]) -> DigestSettings:
    """The digest's settings from LODESTAR_SMTP_* , LODESTAR_DIGEST_TO and
    LODESTAR_DIGEST_WEBHOOK_URL. Refuses (InputError) an SMTP host without recipients,
    a port that is not a number, a STARTTLS value that is not yes/no and a webhook
    that is not an http(s) URL, never quoting a secret."""
    def value(name: str) -> str | None:
        return (environ.get(name) or "").strip() or None
    host, user = value("LODESTAR_SMTP_HOST"), value("LODESTAR_SMTP_USER")
    starttls = _yes_no(value("LODESTAR_SMTP_STARTTLS"), default=user is not None)
    recipients = tuple(address for _, address in getaddresses([value("LODESTAR_DIGEST_TO") or ""])
                       if address)
    if host and not recipients:
        raise InputError("LODESTAR_SMTP_HOST is set but LODESTAR_DIGEST_TO names nobody: "
                         "set it to one or more addresses, separated by commas.")
    port = value("LODESTAR_SMTP_PORT") or ("587" if starttls else "25")
    if not port.isdigit() or not 0 < int(port) < 65536:
        raise InputError(f"LODESTAR_SMTP_PORT '{port}' is not a port number (1 to 65535).")
    url = value("LODESTAR_DIGEST_WEBHOOK_URL")
    if url and (urlsplit(url).scheme not in ("http", "https") or not urlsplit(url).hostname):
        raise InputError("LODESTAR_DIGEST_WEBHOOK_URL is not an http:// or https:// address.")
    return DigestSettings(host, int(port), user, environ.get("LODESTAR_SMTP_PASSWORD") or None,
                          value("LODESTAR_SMTP_FROM") or user or f"lodestar@{socket.getfqdn()}",
                          recipients, starttls, url)


def _yes_no(text: str | None, default: bool) -> bool:
    if text is None:
        return default
    if text.lower() not in TRUE_WORDS + FALSE_WORDS:
        raise InputError(f"LODESTAR_SMTP_STARTTLS '{text}' is neither yes nor no (1/0, true/false).")
    return text.lower() in TRUE_WORDS


def redacted_url(url: str) -> str:
    """The URL's scheme and host (and port) only: "https://hooks.slack.com/…"."""
    parts = urlsplit(url)
    host = parts.hostname or ""
    return f"{parts.scheme}://{host}{f':{parts.port}' if parts.port else ''}/…"


def email_message(settings: DigestSettings, content: Digest) -> EmailMessage:
    """The digest as an e-mail: plain text with an HTML alternative."""
    message = EmailMessage()
    message["Subject"] = content.subject
    message["From"] = settings.sender
    message["To"] = ", ".join(settings.recipients)
    message["Date"] = formatdate(localtime=True)
    message["Message-ID"] = make_msgid(domain=settings.sender.rpartition("@")[2] or None)
    message.set_content(content.text)
    message.add_alternative(content.html, subtype="html")
    return message


def send_email(settings: DigestSettings, content: Digest) -> None:
    """Sends the digest through the SMTP server (STARTTLS and login when set).
    Raises DeliveryError when it cannot."""
    where = f"{settings.smtp_host}:{settings.smtp_port}"
    try:
        with smtplib.SMTP(settings.smtp_host, settings.smtp_port, timeout=TIMEOUT_SECONDS) as smtp:
            if settings.starttls:
                smtp.starttls(context=ssl.create_default_context())
            if settings.smtp_user:
                _login(smtp, settings.smtp_user, settings.smtp_password or "")
            refused = smtp.send_message(email_message(settings, content))
    except Exception as exc:  # noqa: BLE001 - whatever the cause, one sentence without secrets (and the traceback to the log)
        _log_failure(f"e-mail through {where}", exc, settings)
        raise DeliveryError(f"Could not send the digest by e-mail through {where}: "
                            f"{_reason(exc, settings)}.") from None
    log.info("digest sent by e-mail through %s to %d recipient(s)%s", where,
             len(settings.recipients) - len(refused), f", refused: {len(refused)}" if refused else "")


class _Unredirected(urllib.request.HTTPRedirectHandler):
    """A redirect is an answer, not a delivery: urllib would follow a 301 or 302 with a
    GET without the body and call it sent."""
    def redirect_request(self, *args, **kwargs):
        return None


_NO_REDIRECTS = urllib.request.build_opener(_Unredirected)


def post_webhook(settings: DigestSettings, content: Digest) -> None:
    """POSTs the digest's JSON body to the webhook. Raises DeliveryError when it cannot
    (no answer, or an answer other than 2xx: a redirect is not followed)."""
    shown = redacted_url(settings.webhook_url)
    request = urllib.request.Request(
        settings.webhook_url, data=json.dumps(content.payload, ensure_ascii=False).encode("utf-8"),
        headers={"Content-Type": "application/json; charset=utf-8", "User-Agent": "Lodestar digest"},
        method="POST")
    try:
        with _NO_REDIRECTS.open(request, timeout=TIMEOUT_SECONDS) as response:
            response.read()
    except Exception as exc:  # noqa: BLE001 - whatever the cause, one sentence without secrets (and the traceback to the log)
        _log_failure(f"webhook {shown}", exc, settings)
        raise DeliveryError(f"Could not post the digest to the webhook {shown}: "
                            f"{_reason(exc, settings)}.") from None
    log.info("digest posted to the webhook %s", shown)


def _login(smtp: smtplib.SMTP, user: str, password: str) -> None:
    """smtplib's login, which encodes as ASCII; a user name or password beyond ASCII goes
    as AUTH PLAIN in UTF-8 (RFC 4616), when the server offers it."""
    if (user + password).isascii():
        smtp.login(user, password)
        return
    smtp.ehlo_or_helo_if_needed()
    if "plain" not in smtp.esmtp_features.get("auth", "").lower().split():
        raise smtplib.SMTPException("the server does not take AUTH PLAIN, which a user name or "
                                    "password beyond ASCII needs")
    token = base64.b64encode(f"\0{user}\0{password}".encode()).decode("ascii")
    code, answer = smtp.docmd("AUTH", f"PLAIN {token}")
    if code != 235:
        raise smtplib.SMTPAuthenticationError(code, answer)


def _reason(exc: BaseException, settings: DigestSettings) -> str:
    if isinstance(exc, urllib.error.HTTPError):
        text = f"the server answered {exc.code} {exc.reason}"
    elif isinstance(exc, urllib.error.URLError):
        text = str(exc.reason)
    elif isinstance(exc, smtplib.SMTPAuthenticationError):
        text = f"the server refused the user name or password ({exc.smtp_code})"
    elif isinstance(exc, smtplib.SMTPNotSupportedError) and "STARTTLS" in str(exc):
        text = "the server does not offer STARTTLS (set LODESTAR_SMTP_STARTTLS=0 only for a " \
               "server on this machine)"
    elif isinstance(exc, smtplib.SMTPRecipientsRefused):
        text = "the server refused every recipient"
    else:
        text = str(exc) or type(exc).__name__
    return _scrubbed(" ".join(text.split()), settings)


def _scrubbed(text: str, settings: DigestSettings) -> str:
    for secret in sorted(settings.secrets(), key=len, reverse=True):
        text = text.replace(secret, "***")
    return text


def _log_failure(what: str, exc: BaseException, settings: DigestSettings) -> None:
    """The traceback at ERROR, with every secret replaced (an exception's text may quote
    the URL it was given)."""
    log.error("digest: sending by %s failed\n%s", what,
              _scrubbed("".join(traceback.format_exception(exc)), settings))
