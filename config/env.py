"""Reading the project's configuration from environment variables (12-factor style)."""

from __future__ import annotations

import os
from pathlib import Path
from urllib.parse import parse_qs, unquote, urlsplit

from django.core.exceptions import ImproperlyConfigured

_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off", ""}


def env_str(name: str, default: str | None = None) -> str | None:
    return os.environ.get(name, default)


def env_bool(name: str, default: bool = False) -> bool:
    raw = os.environ.get(name)
    if raw is None:
        return default
    value = raw.strip().lower()
    if value in _TRUE:
        return True
    if value in _FALSE:
        return False
    raise ImproperlyConfigured(f"{name}={raw!r}: expected one of {sorted(_TRUE | _FALSE - {''})}.")


def env_int(name: str, default: int) -> int:
    raw = os.environ.get(name)
    if raw is None or raw == "":
        return default
    try:
        return int(raw)
    except ValueError:
        raise ImproperlyConfigured(f"{name}={raw!r}: expected a whole number.")


def env_list(name: str, default: list[str]) -> list[str]:
    raw = os.environ.get(name)
    if raw is None:
        return default
    return [item.strip() for item in raw.split(",") if item.strip()]


def env_proxy_ssl_header(name: str) -> tuple[str, str] | None:
    """Django's ``SECURE_PROXY_SSL_HEADER`` from ``X-Forwarded-Proto=https`` (the header a trusted proxy sets,
    and the value meaning https); empty or unset: None (trust no header)."""
    raw = os.environ.get(name)
    if raw is None or not raw.strip():
        return None
    header, sep, value = raw.partition("=")
    header, value = header.strip(), value.strip()
    if not sep or not header or not value or not all(c.isalnum() or c in "-_" for c in header):
        raise ImproperlyConfigured(f"{name}={raw!r}: expected HEADER=VALUE, e.g. X-Forwarded-Proto=https.")
    meta = header.upper().replace("-", "_")
    return (meta if meta.startswith("HTTP_") else f"HTTP_{meta}", value)


_ENGINES = {
    "sqlite": "django.db.backends.sqlite3",
    "postgres": "django.db.backends.postgresql",
    "postgresql": "django.db.backends.postgresql",
    "pgsql": "django.db.backends.postgresql",
    "mysql": "django.db.backends.mysql",
}


def parse_database_url(url: str, base_dir: Path) -> dict:
    """A Django ``DATABASES`` entry from a URL such as ``postgres://user:pw@host:5432/name`` or
    ``sqlite:///var/ace.sqlite3`` (relative to the project) / ``sqlite:////abs/path.sqlite3``."""
    parts = urlsplit(url)
    engine = _ENGINES.get(parts.scheme)
    if engine is None:
        raise ImproperlyConfigured(
            f"DATABASE_URL scheme {parts.scheme!r} is not supported; use one of {', '.join(sorted(_ENGINES))}."
        )
    if engine.endswith("sqlite3"):
        path = unquote(parts.path)
        if path in ("", "/", "/:memory:"):
            name = ":memory:"
        else:
            path = path[1:] if path.startswith("/") else path  # sqlite:///rel -> rel ; sqlite:////abs -> /abs
            name = str(path if path.startswith("/") else base_dir / path)
        return {"ENGINE": engine, "NAME": name, "OPTIONS": {"timeout": 20}}
    options = {key: values[-1] for key, values in parse_qs(parts.query).items()}
    config = {
        "ENGINE": engine,
        "NAME": unquote(parts.path.lstrip("/")),
        "USER": unquote(parts.username or ""),
        "PASSWORD": unquote(parts.password or ""),
        "HOST": parts.hostname or "",
        "PORT": str(parts.port or ""),
        "CONN_MAX_AGE": int(options.pop("conn_max_age", 60)),
        "OPTIONS": options,
    }
    if not config["NAME"]:
        raise ImproperlyConfigured(f"DATABASE_URL {url!r} names no database.")
    return config
