"""Figures that read at a glance, in English and Chinese: matplotlib with a CJK font when the system has one.

matplotlib's own fonts have no Chinese glyphs, so Chinese labels render as boxes unless a CJK font is registered.
:func:`use_cjk_font` finds one (Noto Sans CJK, WenQuanYi, Source Han — Debian: ``apt install fonts-noto-cjk``) and
puts it after DejaVu Sans in the fallback list, so Latin text keeps its usual look and Chinese text renders.
"""

from __future__ import annotations

import functools
import io
import subprocess
from pathlib import Path
from typing import Any

CJK_FAMILIES = (
    "Noto Sans CJK SC",
    "Noto Sans CJK JP",
    "Noto Sans SC",
    "Source Han Sans SC",
    "WenQuanYi Micro Hei",
    "WenQuanYi Zen Hei",
    "Microsoft YaHei",
    "PingFang SC",
    "SimHei",
)
FONT_DIRS = ("/usr/share/fonts", "/usr/local/share/fonts", str(Path.home() / ".fonts"))


@functools.lru_cache(maxsize=1)
def use_cjk_font() -> str | None:
    """Register a CJK font with matplotlib and add it to the fallback list; its family name, or None if none."""
    import matplotlib
    from matplotlib import font_manager

    for path in _candidate_files():
        try:
            font_manager.fontManager.addfont(str(path))
        except (OSError, RuntimeError, ValueError):
            continue
    known = {f.name for f in font_manager.fontManager.ttflist}
    family = next((f for f in CJK_FAMILIES if f in known), None)
    if family is not None:
        # fallback works across the families *listed* in font.family; a generic "sans-serif" resolves to one font
        matplotlib.rcParams["font.family"] = ["DejaVu Sans", family, "sans-serif"]
        matplotlib.rcParams["font.sans-serif"] = ["DejaVu Sans", family, *matplotlib.rcParams["font.sans-serif"]]
        matplotlib.rcParams["axes.unicode_minus"] = False
    return family


def _candidate_files() -> list[Path]:
    try:
        out = subprocess.run(["fc-list", ":lang=zh", "file"], capture_output=True, text=True, timeout=10).stdout
        found = [Path(line.split(":")[0]) for line in out.splitlines() if line.strip()]
    except (OSError, subprocess.SubprocessError):
        found = []
    for folder in FONT_DIRS:
        for pattern in ("**/*CJK*.tt[cf]", "**/*cjk*.tt[cf]", "**/wqy*.tt[cf]", "**/*SourceHanSans*"):
            found += Path(folder).glob(pattern) if Path(folder).is_dir() else []
    return list(dict.fromkeys(p for p in found if p.suffix.lower() in (".ttc", ".ttf", ".otf")))


def figure(width: float = 7.0, height: float = 3.2) -> tuple[Any, Any]:
    """A figure and its axes, with the CJK fallback set up."""
    import matplotlib

    if not _in_notebook():
        matplotlib.use("Agg", force=False)  # no display: render to files and strings
    import matplotlib.pyplot as plt

    use_cjk_font()
    return plt.subplots(figsize=(width, height))


def _in_notebook() -> bool:
    from workbench.provenance import in_a_kernel

    return in_a_kernel()


def to_svg(fig: Any) -> str:
    """The figure as an inline SVG string (it renders in JupyterLab and in exported HTML alike), then closed."""
    import matplotlib.pyplot as plt

    buffer = io.StringIO()
    fig.savefig(buffer, format="svg", bbox_inches="tight")
    plt.close(fig)
    text = buffer.getvalue()
    return text[text.index("<svg") :]
