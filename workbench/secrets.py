"""Keep secrets out of everything the workbench writes: the store, logs, exports, notebooks.

``redact(text)`` replaces the values of secret-looking environment variables (names with KEY,
TOKEN, SECRET or PASSWORD) and anything shaped like an API key with ``***``. The store applies
it to every text it writes, so an error message that quoted a header, or a model that echoed
its prompt, cannot leak a key into the SQLite file or an export.
"""

from __future__ import annotations

import os
import re

_SECRET_NAME = re.compile(r"(KEY|TOKEN|SECRET|PASSWORD)", re.IGNORECASE)
_KEY_SHAPES = re.compile(r"\b(sk-[A-Za-z0-9_\-]{16,}|Bearer\s+[A-Za-z0-9_\-.=]{16,})")
MASK = "***"


def secret_values() -> list[str]:
    values = [v for k, v in os.environ.items() if _SECRET_NAME.search(k) and len(v) >= 8]
    return sorted(set(values), key=len, reverse=True)


def redact(text: str | None) -> str | None:
    """``text`` with secrets masked (``None`` passes through)."""
    if not text:
        return text
    for value in secret_values():
        if value in text:
            text = text.replace(value, MASK)
    return _KEY_SHAPES.sub(MASK, text)
