"""A notebook's key results (accuracy, hit@k, TTFT...) for the nightly summary."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

from workbench.nightly import METRICS_ENV


def record_metrics(**metrics: Any) -> dict[str, Any]:
    """Report a notebook's key results (accuracy, hit@k, TTFT...) to the nightly summary.

    Outside a nightly run this only returns them, so notebooks can call it unconditionally.
    """
    target = os.environ.get(METRICS_ENV)
    clean = {k: (round(v, 4) if isinstance(v, float) else v) for k, v in metrics.items()}
    if target:
        path = Path(target)
        existing = json.loads(path.read_text(encoding="utf-8")) if path.exists() else {}
        existing.update(clean)
        path.write_text(json.dumps(existing, ensure_ascii=False, default=str), encoding="utf-8")
    return clean
