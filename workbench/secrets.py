"""Keep secrets out of everything the workbench writes: the store, logs, exports, notebooks.

``redact(text)`` replaces with ``***``: the values of secret-looking environment variables (names with KEY,
TOKEN, SECRET, PASSWORD or CREDENTIAL), anything shaped like an API key (``sk-…``, ``Bearer …``), and the
``user:password@`` part of URLs. The store applies it (through :func:`workbench.store.records.redact_record`)
to every record it writes and returns, so an error message that quoted a header, a model spec with a password
in its URL, or a model that echoed its prompt cannot leak a key into the SQLite file, an export, a console
table or a notebook.
"""

from __future__ import annotations

import os
import re
from typing import Any

_SECRET_NAME = re.compile(r"(KEY|TOKEN|SECRET|PASSWORD|PASSWD|CREDENTIAL)", re.IGNORECASE)
_KEY_SHAPES = re.compile(r"\b(sk-[A-Za-z0-9_\-]{16,}|Bearer\s+[A-Za-z0-9_\-.=]{16,})")
_URL_CREDENTIALS = re.compile(r"(?<=://)[^/\s@:]+:[^/\s@]*@")
MASK = "***"


_name_is_secret: dict[str, bool] = {}
_last: tuple[dict[str, str], list[str]] | None = None


def secret_values() -> list[str]:
    """Current values of secret-looking environment variables, longest first.

    Fresh on every call (a key exported a moment ago must be masked too), yet cheap enough for every write: the
    environment is copied and compared with the copy of the last scan, and rescanned only when it changed.
    """
    global _last
    environment = dict(os.environ)
    if _last is not None and _last[0] == environment:
        return _last[1]
    values = _scan(environment)
    _last = (environment, values)
    return values


def _scan(environment: dict[str, str]) -> list[str]:
    values = set()
    for key, value in environment.items():
        secret = _name_is_secret.get(key)
        if secret is None:
            secret = _name_is_secret[key] = bool(_SECRET_NAME.search(key))
        if secret and len(value) >= 8:
            values.add(value)
    return sorted(values, key=len, reverse=True)


_SUSPECT = re.compile(r"sk-|Bearer|://[^/\s@:]+:[^/\s@]*@")  # what a key shape or a URL with a password contains


def redact(text: str | None, secrets: list[str] | None = None) -> str | None:
    """``text`` with secrets masked (``None`` passes through). Pass ``secrets`` to reuse one scan."""
    if not text:
        return text
    for value in secret_values() if secrets is None else secrets:
        if value in text:
            text = text.replace(value, MASK)
    if _SUSPECT.search(text) is None:  # the common case: nothing shaped like a key, no URL — one scan, done
        return text
    return _URL_CREDENTIALS.sub(MASK + "@", _KEY_SHAPES.sub(MASK, text))


def redact_value(value: Any, secrets: list[str] | None = None) -> Any:
    """``value`` (str, or dicts/lists/tuples of them) with secrets masked in every string, keys included."""
    secrets = secret_values() if secrets is None else secrets
    if isinstance(value, str):
        return redact(value, secrets)
    if isinstance(value, dict | list | tuple) and _clean(value, secrets):
        return value
    if isinstance(value, dict):
        return {redact_value(k, secrets): redact_value(v, secrets) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return type(value)(redact_value(v, secrets) for v in value)
    return value


def _clean(value: Any, secrets: list[str]) -> bool:
    """The value's text (as JSON) holds no secret and nothing shaped like one: it needs no walk."""
    import json

    if any(_JSON_ESCAPED.search(secret) for secret in secrets):
        return False  # JSON would escape such a secret: only the walk can find it
    try:
        text = json.dumps(value, ensure_ascii=False, default=str)
    except (TypeError, ValueError):
        return False
    return _SUSPECT.search(text) is None and not any(secret in text for secret in secrets)


def is_clean(values: Any, secrets: list[str] | None = None) -> bool:
    """Nothing in ``values`` (texts and JSON-like values) needs masking — one check for a whole record."""
    return _clean(values, secret_values() if secrets is None else secrets)


_JSON_ESCAPED = re.compile(r'["\\\x00-\x1f]')
