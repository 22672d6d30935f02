"""The prompt library: a folder of ``*.prompty`` files (the current versions) plus their immutable history.

Saving an edit never overwrites an existing version: it writes the next version number under
``_versions/NAME/vN.prompty`` too, and every version stays loadable and diffable. Versions are plain files,
so ``git diff`` reads well.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from workbench.errors import ConfigError, ConflictError, TemplateError
from workbench.identity import PromptRef
from workbench.prompts.fileformat import TEMPLATE_SUFFIX
from workbench.prompts.template import PromptTemplate

VERSIONS_DIR = "_versions"


def default_library_path() -> Path:
    """The project's ``prompt_library/`` (see :func:`workbench.paths.project_root`)."""
    from workbench.paths import project_root

    return project_root() / "prompt_library"


@dataclass
class PromptLibrary:
    """A folder of ``*.prompty`` files (the current versions) plus ``_versions/NAME/vN.prompty``.

    Saving an edit never overwrites an existing version: it writes the next version number,
    and every version stays loadable and diffable. Versions are plain files, so ``git diff``
    reads well too.
    """

    root: Path = field(default_factory=default_library_path)

    def __post_init__(self) -> None:
        self.root = Path(self.root)

    @classmethod
    def containing(cls, template: PromptTemplate) -> PromptLibrary | None:
        """The library a template was read from (its current file, or a file of its history), if any."""
        if template.path is None:
            return None
        path = Path(template.path)
        if path.name == f"{template.name}{TEMPLATE_SUFFIX}":
            return cls(path.parent)
        if path.parent.parent.name == VERSIONS_DIR:
            return cls(path.parent.parent.parent)
        return None

    def names(self) -> list[str]:
        return sorted(p.name.removesuffix(TEMPLATE_SUFFIX) for p in self.root.glob(f"*{TEMPLATE_SUFFIX}"))

    def templates(self) -> list[PromptTemplate]:
        return [self.get(name) for name in self.names()]

    def path_of(self, name: str) -> Path:
        """The file of a prompt. A name that is not a plain name (``../x``, ``a/b``) is an error: the library never
        reads or writes outside its folder."""
        return self._inside(self.root / f"{_plain(name)}{TEMPLATE_SUFFIX}")

    def _version_path(self, name: str, version: int) -> Path:
        return self._inside(self.root / VERSIONS_DIR / _plain(name) / f"v{int(version)}{TEMPLATE_SUFFIX}")

    def _inside(self, path: Path) -> Path:
        if not path.resolve().is_relative_to(self.root.resolve()):
            raise ConfigError(f"{path} is outside the prompt library {self.root}; use a plain prompt name.")
        return path

    def get(self, name: str, version: int | None = None) -> PromptTemplate:
        """The current template, or a given version. ``name@vN`` also works."""
        if version is None and "@" in name:
            ref = PromptRef.parse(name)
            name, version = ref.name, ref.version
        current_path = self.path_of(name)
        if not current_path.exists():
            close = difflib.get_close_matches(name, self.names(), n=3)
            hint = f" Did you mean: {', '.join(close)}?" if close else f" Known: {', '.join(self.names())}."
            raise ConfigError(f"No prompt named {name!r} in {self.root}.{hint}")
        current = PromptTemplate.load(current_path)
        if version is None or version == current.version:
            return current
        archived = self._version_path(name, version)
        if not archived.exists():
            raise ConfigError(
                f"Prompt {name!r} has no version {version}. Versions: {', '.join(map(str, self.versions(name)))}."
            )
        return PromptTemplate.load(archived)

    def versions(self, name: str) -> list[int]:
        found = {self.get(name).version}
        folder = self.root / VERSIONS_DIR / _plain(name)
        for path in folder.glob(f"v*{TEMPLATE_SUFFIX}"):
            try:
                found.add(int(path.name[1:].removesuffix(TEMPLATE_SUFFIX)))
            except ValueError:
                continue
        return sorted(found)

    def owns(self, template: PromptTemplate) -> bool:
        """The template was read from this library (its current file or its history)."""
        if template.path is None:
            return False
        path = Path(template.path).resolve()
        return path == self.path_of(template.name).resolve() or path.is_relative_to(
            (self.root / VERSIONS_DIR / _plain(template.name)).resolve()
        )

    def save(
        self, template: PromptTemplate, *, as_next_version: bool = False, expected_version: int | None = None
    ) -> PromptTemplate:
        """Save an edit as the next version; unchanged content is not a new version.

        A template read from this library is an edit of that prompt. A template from elsewhere whose name the
        library already has is refused — it would silently become that prompt's next version — unless
        ``as_next_version=True``. ``expected_version``: the version the edit started from; if the file moved on
        since (another editor saved), the save is refused instead of overwriting that change.

        The file is written as the user typed it (``template.source``); only its ``version:`` line changes.
        Returns the template as saved (with its new version number and path).
        """
        current_path = self.path_of(template.name)
        if current_path.exists():
            current = PromptTemplate.load(current_path)
            self._check_save(template, current, as_next_version, expected_version)
            if _same_content(current, template):
                return current
            self._archive(current)
            next_version = max(self.versions(template.name)) + 1
        else:
            next_version = max(template.version, 1)
        saved = template.with_changes(version=next_version, path=current_path)
        self.root.mkdir(parents=True, exist_ok=True)
        current_path.write_text(saved.to_text(), encoding="utf-8")
        self._archive(saved)
        return PromptTemplate.load(current_path)

    def _check_save(
        self, template: PromptTemplate, current: PromptTemplate, as_next_version: bool, expected: int | None
    ) -> None:
        if not as_next_version and not self.owns(template):
            raise ConfigError(
                f"The library already has a prompt named {template.name!r} (v{current.version}, {current.path}). "
                "Give the new prompt another `name:`, or save it as that prompt's next version "
                "(PromptLibrary.save(template, as_next_version=True); `workbench prompts save FILE --as-next-version`)."
            )
        if expected is not None and current.version != expected:
            raise ConflictError(
                f"{current.path} changed since you opened it: you edited v{expected}, the file is now "
                f"v{current.version} (saved by someone else). Nothing was saved: reload it, or diff "
                f"(`workbench prompts diff {template.name} {expected} {current.version}`) and apply your change again."
            )

    def save_file(self, name: str) -> PromptTemplate:
        """The library file of ``name`` was edited in place: keep its history. If the file's version is already
        archived with other text, the edit becomes the next version (the archive keeps the old text); a version
        not archived yet is archived as it is."""
        current = PromptTemplate.load(self.path_of(name))
        archived_path = self._version_path(name, current.version)
        if not archived_path.exists():
            self._archive(current)
            return current
        archived = PromptTemplate.load(archived_path)
        if _same_content(archived, current):
            return current
        next_version = max(self.versions(name)) + 1
        saved = current.with_changes(version=next_version)
        self.path_of(name).write_text(saved.to_text(), encoding="utf-8")
        self._archive(saved)
        return PromptTemplate.load(self.path_of(name))

    def archive_source(self, name: str, version: int, source: str) -> bool:
        """Archive a version from its recorded text (a version a run used that the history lacks); ``True`` when
        it was missing. History is immutable: an archived version is never rewritten."""
        target = self._version_path(name, version)
        if target.exists():
            return False
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(source, encoding="utf-8")
        return True

    def _archive(self, template: PromptTemplate) -> None:
        target = self._version_path(template.name, template.version)
        if target.exists():
            return  # history is immutable
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(template.to_text(), encoding="utf-8")

    def diff(self, name: str, a: int, b: int, *, rendered: bool = False) -> str:
        """A unified diff between two versions: of the files, or of their renders with examples."""
        ta, tb = self.get(name, a), self.get(name, b)
        return diff_templates(ta, tb, rendered=rendered)


def _plain(name: str) -> str:
    from workbench.prompts.frontmatter import NAME_RULE, check_name

    try:
        return check_name(name)
    except ValueError:
        raise ConfigError(f"{name!r} is not a prompt name: use {NAME_RULE}.") from None


def _same_content(a: PromptTemplate, b: PromptTemplate) -> bool:
    """The same file text apart from the version number (what a save would write)."""
    return a.with_changes(version=0, path=None).to_text() == b.with_changes(version=0, path=None).to_text()


def diff_templates(a: PromptTemplate, b: PromptTemplate, *, rendered: bool = False) -> str:
    """Unified diff of two templates' files (or of their rendered examples)."""
    if rendered:
        examples = {**a.examples, **b.examples}
        left, right = _render_for_diff(a, examples), _render_for_diff(b, examples)
    else:
        left, right = a.to_text(), b.to_text()
    lines = difflib.unified_diff(
        left.splitlines(keepends=True),
        right.splitlines(keepends=True),
        fromfile=a.ref,
        tofile=b.ref,
    )
    return "".join(lines) or "(no differences)\n"


def _render_for_diff(template: PromptTemplate, examples: Mapping[str, Any]) -> str:
    from workbench.models.base import prompt_as_text

    try:
        return prompt_as_text(template.render(examples)) + "\n"
    except TemplateError as exc:
        return f"(cannot render: {exc})\n"


def load_prompt(ref: str | Path | PromptTemplate, library: PromptLibrary | None = None) -> PromptTemplate:
    """A template from a path (``x.prompty``), a library name (``name`` / ``name@v2``) or an object."""
    if isinstance(ref, PromptTemplate):
        return ref
    text = str(ref)
    if text.endswith(TEMPLATE_SUFFIX) or Path(text).is_file():
        return PromptTemplate.load(text)
    return (library or PromptLibrary()).get(text)


def iter_variables(templates: Iterable[PromptTemplate]) -> list[str]:
    seen: dict[str, None] = {}
    for template in templates:
        for v in template.required_variables:
            seen.setdefault(v, None)
    return list(seen)
