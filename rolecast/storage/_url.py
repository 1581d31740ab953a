"""Where the profile database is: ``--db`` / ``$ROLECAST_DB`` / the XDG default, as a URL."""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import ArgumentError

from rolecast.errors import StorageError

__all__ = [
    "DB_HINT",
    "default_db_path",
    "discard_new_sqlite_on_failure",
    "driver_message",
    "ensure_sqlite_parent",
    "mask_url",
    "resolve_db_url",
    "scrub_password",
]

#: How the user points rolecast at another database; ends most storage error messages.
DB_HINT = "set --db or ROLECAST_DB"

_SCHEME = re.compile(r"^[A-Za-z][A-Za-z0-9+.\-]*://")
_USERINFO_PASSWORD = re.compile(r"(://[^:/@\s]*:)[^@\s]*@")
_BACKGROUND = re.compile(r"\s*\(Background on this error at: [^)]*\)")


def default_db_path() -> Path:
    """``$XDG_DATA_HOME/rolecast/rolecast.db``, or ``~/.local/share/rolecast/rolecast.db``."""
    data_home = os.environ.get("XDG_DATA_HOME") or str(Path.home() / ".local" / "share")
    return Path(data_home).expanduser() / "rolecast" / "rolecast.db"


def resolve_db_url(db: str | None) -> str:
    """Turn ``--db`` (a URL or a file path) into a SQLAlchemy URL.

    ``None`` (or empty) falls back to ``$ROLECAST_DB``, then to :func:`default_db_path`.
    ``postgresql://`` and ``postgres://`` are rewritten to the psycopg 3 driver; any other
    URL is kept; anything else is a SQLite file path. The SQLite parent directory is
    created by :class:`ProfileStore` when it opens the file.
    """
    if not db:
        db = os.environ.get("ROLECAST_DB") or str(default_db_path())
    if _SCHEME.match(db):
        scheme, rest = db.split("://", 1)
        if scheme.lower() in ("postgresql", "postgres"):
            return f"postgresql+psycopg://{rest}"
        return db
    return f"sqlite:///{Path(db).expanduser().absolute()}"


def mask_url(url: str | URL) -> str:
    """The URL with its password replaced by ``***`` (safe to print or log)."""
    try:
        return make_url(url).render_as_string(hide_password=True)
    except (ArgumentError, ValueError):  # an unparsable URL: mask the user-info by hand
        return _USERINFO_PASSWORD.sub(r"\1***@", str(url))


def scrub_password(text: str, password: str | None) -> str:
    """Remove a password from a message, in a URL's user-info or anywhere else.

    A password shorter than 4 characters is only masked inside URLs: replacing it
    everywhere would garble the message more than hiding it protects.
    """
    text = _USERINFO_PASSWORD.sub(r"\1***@", text)
    return text.replace(password, "***") if password and len(password) >= 4 else text


def ensure_sqlite_parent(url: URL, display: str, hint: str = DB_HINT) -> None:
    """Create the directory of a SQLite file (not for in-memory or ``file:`` URI databases)."""
    database = url.database
    if not database or database == ":memory:" or database.startswith("file:"):
        return
    parent = Path(database).expanduser().parent
    try:
        parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise StorageError(
            f"cannot open database {display}: cannot create directory {parent} "
            f"({exc.strerror or exc}); {hint} to a writable path"
        ) from None


def driver_message(exc: BaseException) -> str:
    """The driver's message on one line, without SQLAlchemy's statement dump."""
    orig = getattr(exc, "orig", None) or exc
    text = _BACKGROUND.sub("", str(orig))
    text = "; ".join(re.sub(r"\s+", " ", line).strip() for line in text.splitlines())
    text = re.sub(r"(; )+", "; ", text).strip("; ")
    text = text or type(orig).__name__
    return text if len(text) <= 300 else text[:297] + "..."


@contextmanager
def discard_new_sqlite_on_failure(location: str | None) -> Iterator[None]:
    """Remove the SQLite database file ``location`` names if this block created it and failed.

    A command that fails (nothing fits the budget, bad input) leaves no new database
    behind; a database that existed before is never touched, nor is a server database.
    """
    path = _sqlite_file(location)
    existed = {suffix: Path(f"{path}{suffix}").exists() for suffix in _SQLITE_FILES} if path else {}
    try:
        yield
    except BaseException:
        if path is not None and not existed[""]:
            for suffix in _SQLITE_FILES:
                if not existed[suffix]:
                    Path(f"{path}{suffix}").unlink(missing_ok=True)
        raise


_SQLITE_FILES = ("", "-wal", "-shm", "-journal")


def _sqlite_file(location: str | None) -> Path | None:
    """The file a SQLite location (path or URL) names; None for anything else."""
    if not location:
        return None
    try:
        url = make_url(resolve_db_url(location))
    except (ArgumentError, ValueError):
        return None
    database = url.database
    if url.get_backend_name() != "sqlite" or not database or database == ":memory:":
        return None
    if database.startswith("file:"):
        return None
    return Path(database).expanduser()
