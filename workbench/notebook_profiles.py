"""The profiles of ``workbench nightly`` and ``make test``: which parameters each notebook runs with, in which
variants, and how nbval re-checks them.

Per-profile parameters live in ``notebooks/profiles.yaml`` (``ci``: small and fast, ``full``)::

    ci:
      variants:                      # every notebook runs once per variant, with these parameters on top
        en: {lang: en}
        solutions: {lang: zh, solutions: true}
      validate: [en]                 # the variants nbval re-runs
      rerun: cached                  # nbval's re-run answers from the run store (default: fresh)
      share_answers: true            # a later variant starts with the earlier variants' answers (default: false)
      notebooks:
        00_quickstart: {n_rows: 12}

A profile without ``variants`` is a plain ``{notebook: parameters}`` mapping, run once each.

With ``share_answers: true`` (``ci``) each variant of a notebook after the first starts with a run store holding the
answers of the variants before it: a request the two variants make identically (the same prompt version, row, model
and parameters — an English exam the Chinese run also takes, say) is answered from the store's cache, the way a user
re-running a notebook gets it; every request that differs (another language's prompts or rows) calls the model. Every
cell still runs in every variant. ``full`` (the nightly job) leaves it off: each variant calls the model for itself.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from workbench.errors import ConfigError

PROFILES_FILE = "profiles.yaml"


def load_profiles(notebooks_dir: Path) -> dict[str, dict[str, dict[str, Any]]]:
    import yaml

    path = notebooks_dir / PROFILES_FILE
    if not path.exists():
        return {"ci": {}, "full": {}}
    return yaml.safe_load(path.read_text(encoding="utf-8")) or {}


RERUNS = ("fresh", "cached")


@dataclass(frozen=True)
class Profile:
    """One profile of ``profiles.yaml``: parameters per notebook, the variants each runs in, which nbval checks."""

    name: str
    notebooks: dict[str, dict[str, Any]]
    variants: dict[str, dict[str, Any]]
    validate: tuple[str, ...]
    rerun: str = "fresh"  # nbval's re-run: "fresh" (the model called again) or "cached" (answers from the run store)
    share_answers: bool = False  # a later variant of a notebook starts with the earlier variants' cached answers

    @classmethod
    def parse(cls, name: str, raw: dict[str, Any] | None) -> Profile:
        raw = raw or {}
        if "notebooks" not in raw and "variants" not in raw:  # the plain form: {notebook: parameters}
            return cls(name, {k: dict(v or {}) for k, v in raw.items()}, {"": {}}, ("",))
        variants = {str(k): dict(v or {}) for k, v in (raw.get("variants") or {"": {}}).items()}
        validate = tuple(str(v) for v in raw.get("validate", list(variants)))
        unknown = sorted(set(validate) - set(variants))
        if unknown:
            raise ConfigError(f"Profile {name!r}: validate names unknown variants {unknown}; known: {list(variants)}.")
        notebooks = {k: dict(v or {}) for k, v in (raw.get("notebooks") or {}).items()}
        rerun = str(raw.get("rerun", "fresh"))
        if rerun not in RERUNS:
            raise ConfigError(f"Profile {name!r}: rerun: {rerun!r} is not one of {', '.join(RERUNS)}.")
        share = raw.get("share_answers", False)
        if not isinstance(share, bool):
            raise ConfigError(f"Profile {name!r}: share_answers: {share!r} is not true or false.")
        return cls(name, notebooks, variants, validate, rerun, share)

    def runs(self, notebook: str) -> list[tuple[str, dict[str, Any], bool]]:
        """(variant, parameters, validate?) for each run of ``notebook``."""
        base = self.notebooks.get(notebook) or {}
        return [(variant, {**base, **extra}, variant in self.validate) for variant, extra in self.variants.items()]


def load_profile(notebooks_dir: Path, name: str) -> Profile:
    profiles = load_profiles(notebooks_dir)
    if name not in profiles:
        raise ConfigError(f"No profile {name!r} in {notebooks_dir / PROFILES_FILE}. Known: {', '.join(profiles)}.")
    return Profile.parse(name, profiles[name])
