"""The message catalogue: every message in both languages with the same fields, the language chosen as documented,
and every key the code asks for present."""

import ast
import importlib
import json
import pkgutil
import subprocess
import sys
from pathlib import Path

import pytest

import workbench
from workbench.errors import ConfigError
from workbench.i18n import LANGUAGES, Messages, catalogue, fields_of, messages, normalize, resolve_language, t
from workbench.i18n import parts as parts_package

PACKAGE = Path(workbench.__file__).parent
PARTS = [info.name for info in pkgutil.iter_modules(parts_package.__path__)]


@pytest.fixture
def clean_env(monkeypatch):
    """No language set anywhere: each test sets what it checks."""
    for name in ("WORKBENCH_LANG", "LANGUAGE", "LC_ALL", "LC_MESSAGES", "LANG"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setattr("locale.getlocale", lambda *a: (None, None))
    return monkeypatch


@pytest.mark.parametrize("part", PARTS)
def test_every_message_exists_in_both_languages_with_the_same_fields(part):
    module = importlib.import_module(f"workbench.i18n.parts.{part}")
    en, zh = module.EN, module.ZH
    assert set(en) == set(zh), f"only in EN: {set(en) - set(zh)}; only in ZH: {set(zh) - set(en)}"
    for key in en:
        assert key.startswith(f"{part}."), f"{key} is in {part}.py: its key must start with {part!r}."
        assert fields_of(en[key]) == fields_of(zh[key]), key
        for language, message in (("en", en[key]), ("zh", zh[key])):
            texts = [message] if isinstance(message, str) else list(message.values())
            assert all(isinstance(text, str) and text.strip() for text in texts), (language, key)
            if not isinstance(message, str):
                assert "other" in message and set(message) <= {"one", "other"}, (language, key)


def test_no_key_is_defined_in_two_parts():
    seen: dict[str, str] = {}
    for part in PARTS:
        for key in importlib.import_module(f"workbench.i18n.parts.{part}").EN:
            assert key not in seen, f"{key} is in {seen.get(key)}.py and {part}.py"
            seen[key] = part


@pytest.mark.parametrize("lang", list(LANGUAGES))
def test_every_message_formats(lang):
    """Each message fills in with values of the kinds its fields ask for (no stray brace, no bad spec)."""
    say = Messages(lang)
    for key, message in catalogue()[lang].items():
        values = {}
        for field in fields_of(message):
            name, _, spec = field.partition(":")
            values[name] = 0.25 if spec else 2
        assert say(key, **values)


def test_every_key_the_code_asks_for_is_in_the_catalogue():
    """Calls ``t("key", ...)`` / ``x.t("key", ...)`` / ``say("key", ...)`` with a literal key anywhere in the package
    name a message that exists."""
    asked = []
    for path in PACKAGE.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if not isinstance(node, ast.Call) or not node.args:
                continue
            name = node.func.id if isinstance(node.func, ast.Name) else getattr(node.func, "attr", "")
            first = node.args[0]
            if name in ("t", "say") and isinstance(first, ast.Constant) and isinstance(first.value, str):
                asked.append((path.relative_to(PACKAGE), first.value))
    missing = [f"{path}: {key}" for path, key in asked if key not in catalogue()["en"]]
    assert missing == []


def test_the_words_of_the_issue():
    assert t("stats.pass_rate", lang="zh") == "通过率"
    assert t("stats.ci95", lang="zh") == "95% 置信区间"
    assert t("stats.mcnemar", lang="zh") == "McNemar 精确检验"
    assert t("stats.verdict.better", lang="en") == "B is better than A"
    assert t("stats.interval", lang="zh", low=0.5, high=0.75) == "95% 置信区间 50%–75%"


def test_plural_forms_and_fields():
    en, zh = Messages("en"), Messages("zh")
    assert en("common.cases", n=1) == "1 case"
    assert en("common.cases", n=3) == "3 cases"
    assert en("common.cases", n=0) == "0 cases"
    assert zh("common.cases", n=1) == "1 个坏例"
    with pytest.raises(KeyError, match="needs the field 'n'"):
        en("common.cases")
    with pytest.raises(KeyError, match="No message 'nope.key'"):
        en("nope.key")
    with pytest.raises(ConfigError, match="No messages in 'fr'"):
        Messages("fr")


@pytest.mark.parametrize(
    "name, code",
    [
        ("zh", "zh"),
        ("zh_CN.UTF-8", "zh"),
        ("zh-Hans", "zh"),
        ("ZH_cn", "zh"),
        ("Chinese (Simplified)_China", "zh"),
        ("简体中文", "zh"),
        ("en_US.UTF-8", "en"),
        ("English", "en"),
        ("fr_FR", None),
        ("C", None),
        ("POSIX", None),
        ("", None),
    ],
)
def test_normalize(name, code):
    assert normalize(name) == code


def test_the_explicit_choice_comes_first(clean_env):
    clean_env.setenv("WORKBENCH_LANG", "en")
    clean_env.setenv("LANG", "en_US.UTF-8")
    assert resolve_language("zh") == "zh"
    assert messages("zh").lang == "zh"


def test_then_workbench_lang_then_the_locale_then_english(clean_env):
    assert resolve_language() == "en"
    clean_env.setenv("LANG", "zh_CN.UTF-8")
    assert resolve_language() == "zh"
    clean_env.setenv("LC_ALL", "C")  # LC_ALL is read before LANG, and C means "no language": English
    assert resolve_language() == "en"
    clean_env.setenv("LANGUAGE", "fr_FR:zh_CN")  # a priority list: the first one we have
    assert resolve_language() == "zh"
    clean_env.setenv("WORKBENCH_LANG", "en")
    assert resolve_language() == "en"
    clean_env.setenv("WORKBENCH_LANG", "")  # empty is unset
    assert resolve_language() == "zh"


def test_the_c_library_locale_when_no_variable_is_set(clean_env):
    clean_env.setattr("locale.getlocale", lambda *a: ("Chinese (Simplified)_China", "936"))
    assert resolve_language() == "zh"


def test_a_locale_we_do_not_have_gives_english(clean_env):
    clean_env.setenv("LANG", "fr_FR.UTF-8")
    assert resolve_language() == "en"


def test_a_language_the_user_chose_but_we_do_not_have_is_an_error(clean_env):
    with pytest.raises(ConfigError, match=r"lang= 'fr'.*en \(English\), zh \(简体中文\)"):
        resolve_language("fr")
    clean_env.setenv("WORKBENCH_LANG", "klingon")
    with pytest.raises(ConfigError, match="WORKBENCH_LANG 'klingon'"):
        resolve_language()


def test_import_workbench_does_not_load_the_catalogue():
    code = "import sys, workbench, json; print(json.dumps([m for m in sys.modules if m.startswith('workbench.i18n')]))"
    assert json.loads(subprocess.check_output([sys.executable, "-c", code], text=True)) == []


def test_the_catalogue_never_imports_the_ui():
    code = (
        "import sys, json, workbench.i18n as i; i.catalogue(); "
        "print(json.dumps([m for m in sys.modules if m.split('.')[0] in ('ipywidgets', 'IPython', 'anywidget') "
        "or m.startswith('workbench.ui')]))"
    )
    assert json.loads(subprocess.check_output([sys.executable, "-c", code], text=True)) == []
