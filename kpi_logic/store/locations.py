"""Where the data lives: a DuckDB file (the embedded default) or a PostgreSQL
server (a team's), and how a location may be shown.

A location is a path or a URL `postgresql://user:password@host:port/dbname`.
Nothing here opens anything or imports a database driver, so the CLI's
`--help` stays fast.
"""
from __future__ import annotations

import os
import re
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

DEFAULT_DB = Path("data") / "lodestar.duckdb"

# The environment variable of a team's server, and of the read-only role that
# viewers' sessions read through (optional).
SERVER_URL_VARIABLE = "LODESTAR_DATABASE_URL"
VIEWER_URL_VARIABLE = "LODESTAR_VIEWER_DATABASE_URL"

# A URL that went through Path() has lost one of its slashes
# ("postgresql:/host/db"), so the scheme is enough to know one.
_SERVER_URL = re.compile(r"^postgres(ql)?:", re.IGNORECASE)


def is_server_url(location: str | os.PathLike | None) -> bool:
    """Whether `location` names a PostgreSQL server rather than a file."""
    return bool(location) and bool(_SERVER_URL.match(str(location)))


def database_location(location: str | os.PathLike | None = None) -> str:
    """The database to use: the argument, else $LODESTAR_DATABASE_URL, else
    $LODESTAR_DB (a path or a URL), else data/lodestar.duckdb."""
    for candidate in (location, os.environ.get(SERVER_URL_VARIABLE),
                      os.environ.get("LODESTAR_DB")):
        if candidate:
            return str(candidate)
    return str(DEFAULT_DB)


def database_path(path: str | os.PathLike | None = None) -> Path:
    """The DuckDB file to use (database_location, for a location that is a file)."""
    return Path(database_location(path))


def redacted(location: str | os.PathLike | None) -> str:
    """The location as it may be shown or logged: a URL's password (and any
    password= parameter) replaced by ***."""
    text = str(location or "")
    if not is_server_url(text):
        return text
    try:
        parts = urlsplit(text)
        netloc = parts.netloc
        if "@" in netloc:
            user, _, host = netloc.rpartition("@")
            if ":" in user:
                user = user.split(":", 1)[0] + ":***"
            netloc = f"{user}@{host}"
        query = re.sub(r"(?i)(password=)[^&]*", r"\1***", parts.query)
        return urlunsplit((parts.scheme, netloc, parts.path, query, ""))
    except ValueError:
        return f"{text.split(':', 1)[0]}://(a URL that cannot be read)"
