"""A Dask scheduler's address, checked before anything is run: ``tcp://HOST:PORT`` (``tls://`` too)."""

from __future__ import annotations

import re
from typing import Any

_ADDRESS = re.compile(r"^(tcp|tls|inproc|ucx)://[^\s/:]+(:\d{1,5})?/?$")


def check_address(address: Any) -> list[str]:
    """Problems with a ``--cluster`` value (a ``distributed.Client`` is always fine)."""
    if not isinstance(address, str):
        return []
    if not _ADDRESS.match(address.strip()):
        return [f"--cluster {address!r}: give the scheduler's address, e.g. tcp://10.0.0.5:8786"]
    return []
