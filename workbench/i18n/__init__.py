"""The UI's message catalogue, in English and 简体中文: every label, button, filter, message and verdict the
workbench shows, and the statistics words and sentences it shows from the core.

    from workbench.i18n import messages, resolve_language, t
    t("stats.pass_rate", lang="zh")                     # '通过率'
    say = messages("zh")                                # one language's messages, as a callable
    say("stats.paired_rows", n=24)                      # '24 个配对行'
    resolve_language(None)                              # 'en' or 'zh', see below

**Which language.** :func:`resolve_language` takes the first of: the explicit choice (``Workbench(lang="zh")``),
the ``WORKBENCH_LANG`` environment variable, the locale (``LANGUAGE``, ``LC_ALL``, ``LC_MESSAGES``, ``LANG``, as
gettext reads them, then the C library's locale), English. The kernel cannot see JupyterLab's own language
setting, so it is not in the list. A language we do not have is an error when the user chose it (``lang=`` or
``WORKBENCH_LANG``: a typo should not silently give English) and English when it merely is the machine's locale.

**Why a small dict per language and not gettext/Babel.** Two languages and a few hundred short messages; keys
(``results.filter.failed``) rather than English source strings as msgids, so rewording the English does not orphan
the Chinese; ``str.format`` fields with format specs (``{rate:.0%}``) that both languages share and a test
compares; plain Python modules, so there is no ``.po`` → ``.mo`` compile step for a pip install or an editable
checkout to forget, nothing binary in git, and a missing translation is found by a unit test rather than by a user
seeing English. Chinese has no plural forms and English needs only one/other: a message may be ``{"one": …,
"other": …}``, picked by its ``n`` field. If the UI ever needs more languages or translators who work in PO
editors, ``babel.messages`` can extract these dicts to PO files; nothing in the widgets would change.

**How a UI part adds its messages.** Add a module ``workbench/i18n/parts/<part>.py`` (copy a small one, e.g.
``common.py``) holding two dicts, ``EN`` and ``ZH``, whose keys all start with ``"<part>."``. Nothing else to
register: every module in that folder is loaded on first use. ``tests/test_i18n.py`` then checks that both
dicts have the same keys, the same ``{fields}`` in each message and the same plural forms, and that no key is
defined twice. In a panel of the Workbench use ``state.t("part.key", **fields)`` (the Workbench's language);
elsewhere ``messages(lang)`` or ``t(key, lang=..., **fields)``. Messages are plain text: escape them with
``html.escape`` where they go into HTML, and put markup around them, not inside them. Words the core defines
(the verdicts, the statistics) live in ``stats.py``: the verdict ``v`` of a comparison is ``stats.verdict.`` +
``v.replace(" ", "_")``.

Error messages raised by the core and the CLI stay English; the UI puts a one-line Chinese hint above them
(``error.hint.*`` in ``common.py``).
"""

from __future__ import annotations

import functools
import importlib
import locale
import os
import pkgutil
import string
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from workbench.errors import ConfigError

__all__ = [
    "DEFAULT",
    "LANGUAGES",
    "Messages",
    "catalogue",
    "fields_of",
    "messages",
    "normalize",
    "resolve_language",
    "t",
]

LANGUAGES = {"en": "English", "zh": "简体中文"}
DEFAULT = "en"
ENV = "WORKBENCH_LANG"
LOCALE_VARIABLES = ("LANGUAGE", "LC_ALL", "LC_MESSAGES", "LANG")  # gettext's order
_ALIASES = {"english": "en", "chinese": "zh", "中文": "zh", "简体中文": "zh"}

Message = str | Mapping[str, str]  # a text, or plural forms {"one": ..., "other": ...}


def normalize(name: str | None) -> str | None:
    """``zh_CN.UTF-8``, ``zh-Hans``, ``Chinese (Simplified)_China``, ``en_US`` → ``zh`` / ``en``; None when the
    name is not one of ours (``fr_FR``) or says nothing (``C``, ``POSIX``, empty)."""
    if not name:
        return None
    text = name.strip().split(".")[0].split("@")[0].replace("-", "_").casefold()
    if text in _ALIASES:
        return _ALIASES[text]
    base = text.split("_")[0].split(" ")[0]
    base = _ALIASES.get(base, base)
    return base if base in LANGUAGES else None


def resolve_language(explicit: str | None = None) -> str:
    """The UI's language: ``explicit``, else ``WORKBENCH_LANG``, else the locale, else English."""
    for chosen, source in ((explicit, "lang="), (os.environ.get(ENV), ENV)):
        if chosen is None or not str(chosen).strip():
            continue
        language = normalize(str(chosen))
        if language is None:
            known = ", ".join(f"{code} ({name})" for code, name in LANGUAGES.items())
            raise ConfigError(
                f"{source} {chosen!r}: the workbench speaks {known}. Use one of {', '.join(map(repr, LANGUAGES))}."
            )
        return language
    return _locale_language() or DEFAULT


def _locale_language() -> str | None:
    for variable in LOCALE_VARIABLES:
        value = os.environ.get(variable)
        if not value:
            continue
        for part in value.split(":"):  # LANGUAGE is a priority list: zh_CN:en
            language = normalize(part)
            if language is not None:
                return language
        if variable != "LANGUAGE":
            return None  # the first locale variable that is set decides (LC_ALL=C means C)
    try:
        return normalize(locale.getlocale()[0])  # Windows: no variables, the C library knows
    except ValueError:
        return None


@functools.cache
def catalogue() -> dict[str, dict[str, Message]]:
    """Every language's messages, merged from the modules in ``workbench/i18n/parts/`` (loaded once)."""
    from workbench.i18n import parts as package

    merged: dict[str, dict[str, Message]] = {code: {} for code in LANGUAGES}
    for info in sorted(pkgutil.iter_modules(package.__path__), key=lambda i: i.name):
        module = importlib.import_module(f"{package.__name__}.{info.name}")
        for code in LANGUAGES:
            merged[code].update(getattr(module, code.upper()))
    return merged


@dataclass(frozen=True)
class Messages:
    """One language's messages: ``say = Messages("zh"); say("stats.pass_rate")``."""

    lang: str = DEFAULT

    def __post_init__(self) -> None:
        if self.lang not in LANGUAGES:
            raise ConfigError(f"No messages in {self.lang!r}: the catalogue has {', '.join(LANGUAGES)}.")

    def __call__(self, key: str, **fields: Any) -> str:
        table = catalogue()[self.lang]
        if key not in table:
            raise KeyError(f"No message {key!r} in the catalogue: add it to workbench/i18n/parts/ (EN and ZH).")
        message = table[key]
        if not isinstance(message, str):
            message = message["one" if fields.get("n") == 1 and "one" in message else "other"]
        try:
            return message.format(**fields)
        except (KeyError, IndexError) as exc:
            raise KeyError(f"Message {key!r} ({self.lang}) needs the field {exc}: given {sorted(fields)}.") from None

    def has(self, key: str) -> bool:
        return key in catalogue()[self.lang]


def messages(lang: str | None = None) -> Messages:
    """The messages of ``lang`` (None: :func:`resolve_language`)."""
    return Messages(resolve_language(lang))


def t(key: str, lang: str | None = None, **fields: Any) -> str:
    """One message, in ``lang`` (None: :func:`resolve_language`), with its ``{fields}`` filled in."""
    return messages(lang)(key, **fields)


def fields_of(message: Message) -> set[str]:
    """The ``{fields}`` a message uses, with their format specs (both languages must use the same)."""
    texts = [message] if isinstance(message, str) else list(message.values())
    found = set()
    for text in texts:
        for _, name, spec, _ in string.Formatter().parse(text):
            if name is not None:
                found.add(f"{name}:{spec}" if spec else name)
    return found
