"""Prompt templates as files: YAML front matter + a sandboxed Jinja2 body.

A template file (``prompt_library/NAME.prompty``) looks like Microsoft's Prompty::

    ---
    name: sentiment_cloze_zh
    version: 2
    description: 情感分类（完形填空）
    tags: [sentiment, zh]
    model: {spec: local, api: completion, parameters: {temperature: 0, max_tokens: 4}}
    inputs:
      text: {description: 一句话, example: 我今天考砸了。}
    output: {parser: label, labels: {positive: [开心], negative: [难过, 累]}}
    assertions:
      - {type: label}
    ---
    {{ text }}我感觉很

The body is plain completion text, or chat turns introduced by ``system:`` / ``user:`` /
``assistant:`` on lines of their own (few-shot turns allowed; Jinja loops may emit them).

Why a sandbox: a shared library of prompt files must not be able to run code, so bodies
render in Jinja2's ``SandboxedEnvironment`` and attribute access to ``_private`` names is
refused when the file is loaded, before any model call.
"""

from __future__ import annotations

import difflib
import hashlib
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from functools import cached_property
from pathlib import Path
from typing import Any

import yaml
from jinja2 import StrictUndefined, TemplateSyntaxError, UndefinedError, nodes
from jinja2.exceptions import SecurityError
from jinja2.sandbox import ImmutableSandboxedEnvironment

from workbench.errors import ConfigError, MissingVariablesError, TemplateError
from workbench.models.base import ChatMessage, PromptInput
from workbench.parsers import OutputParser, make_parser

TEMPLATE_SUFFIX = ".prompty"
VERSIONS_DIR = "_versions"
ROLE_LINE = re.compile(r"^[ \t]*(system|user|assistant)[ \t]*:[ \t]*$", re.MULTILINE | re.IGNORECASE)
KNOWN_KEYS = {
    "name",
    "version",
    "description",
    "tags",
    "model",
    "inputs",
    "output",
    "assertions",
    "sample",
    "authors",
    "retrieval",
    "dataset",
}

_env = ImmutableSandboxedEnvironment(undefined=StrictUndefined, keep_trailing_newline=False, autoescape=False)


@dataclass(frozen=True)
class InputSpec:
    """A declared input variable: what it means and an example value for previews."""

    name: str
    description: str = ""
    example: Any = None
    default: Any = None

    def to_dict(self) -> dict[str, Any]:
        data: dict[str, Any] = {}
        if self.description:
            data["description"] = self.description
        if self.example is not None:
            data["example"] = self.example
        if self.default is not None:
            data["default"] = self.default
        return data


@dataclass(frozen=True)
class ModelDefaults:
    """The model and sampling parameters a template was written for (overridable per run)."""

    spec: str | None = None
    api: str = "auto"  # auto | completion | chat
    parameters: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        data: dict[str, Any] = {}
        if self.spec:
            data["spec"] = self.spec
        if self.api != "auto":
            data["api"] = self.api
        if self.parameters:
            data["parameters"] = dict(self.parameters)
        return data


@dataclass(frozen=True)
class PromptTemplate:
    """One version of a prompt. Immutable: editing produces a new object (and, saved, a new version)."""

    name: str
    body: str
    version: int = 1
    description: str = ""
    tags: tuple[str, ...] = ()
    model: ModelDefaults = field(default_factory=ModelDefaults)
    inputs: Mapping[str, InputSpec] = field(default_factory=dict)
    output: Mapping[str, Any] = field(default_factory=dict)
    assertions: tuple[Mapping[str, Any], ...] = ()
    retrieval: Mapping[str, Any] = field(default_factory=dict)
    dataset: str | None = None  # the dataset this prompt is evaluated on, relative to the project
    extra: Mapping[str, Any] = field(default_factory=dict)
    path: Path | None = field(default=None, compare=False)
    body_line: int = field(default=1, compare=False)  # file line where the body starts

    # -- construction ------------------------------------------------------------------
    def __post_init__(self) -> None:
        self._check_body()

    @classmethod
    def from_string(cls, text: str, *, name: str | None = None, path: str | Path | None = None) -> PromptTemplate:
        """Parse a template file's text (front matter optional)."""
        where = str(path) if path else None
        front, body, body_line = _split_front_matter(text, where)
        meta = _parse_front_matter(front, where)
        return cls._from_meta(meta, body, name=name, path=Path(path) if path else None, body_line=body_line)

    @classmethod
    def load(cls, path: str | Path) -> PromptTemplate:
        path = Path(path)
        try:
            text = path.read_text(encoding="utf-8")
        except FileNotFoundError:
            raise TemplateError("No such prompt file.", path=str(path)) from None
        except UnicodeDecodeError as exc:
            raise TemplateError(
                f"The file is not UTF-8 text ({exc.reason}). Save it as UTF-8.", path=str(path)
            ) from exc
        return cls.from_string(text, name=path.name.removesuffix(TEMPLATE_SUFFIX), path=path)

    @classmethod
    def _from_meta(
        cls, meta: dict[str, Any], body: str, *, name: str | None, path: Path | None, body_line: int
    ) -> PromptTemplate:
        where = str(path) if path else None
        try:
            model_meta = meta.get("model") or {}
            if isinstance(model_meta, str):
                model_meta = {"spec": model_meta}
            if not isinstance(model_meta, dict):
                raise TypeError("`model:` must be a mapping (spec, api, parameters)")
            config = model_meta.get("configuration") or {}  # Prompty layout
            spec = model_meta.get("spec") or config.get("spec")
            model = ModelDefaults(
                spec=spec,
                api=str(model_meta.get("api", "auto")),
                parameters=dict(model_meta.get("parameters") or {}),
            )
            samples = meta.get("sample") or {}
            inputs = {}
            for key, value in (meta.get("inputs") or {}).items():
                value = value if isinstance(value, dict) else {"example": value}
                inputs[str(key)] = InputSpec(
                    name=str(key),
                    description=str(value.get("description", "")),
                    example=value.get("example", value.get("sample", samples.get(key))),
                    default=value.get("default"),
                )
            tags = meta.get("tags") or ()
            assertions = meta.get("assertions") or ()
            if not isinstance(assertions, list | tuple):
                raise TypeError("`assertions:` must be a list of {type: ...} entries")
            version = int(meta.get("version", 1))
        except (TypeError, ValueError, AttributeError) as exc:
            raise TemplateError(f"Invalid front matter: {exc}", path=where, line=1) from exc
        template_name = str(meta.get("name") or name or "untitled")
        return cls(
            name=template_name,
            body=body,
            version=version,
            description=str(meta.get("description", "")),
            tags=tuple(map(str, tags)),
            model=model,
            inputs=inputs,
            output=dict(meta.get("output") or {}),
            assertions=tuple(dict(a) for a in assertions),
            retrieval=dict(meta.get("retrieval") or {}),
            dataset=meta.get("dataset"),
            extra={k: v for k, v in meta.items() if k not in KNOWN_KEYS},
            path=path,
            body_line=body_line,
        )

    # -- checks made when a template is built, before any model call --------------------
    @cached_property
    def _ast(self) -> nodes.Template:
        try:
            return _env.parse(self.body)
        except TemplateSyntaxError as exc:
            raise TemplateError(
                f"Jinja syntax error: {exc.message}. Check the {{{{ }}}} / {{% %}} pairs on that line.",
                path=self._where,
                line=self._file_line(exc.lineno),
            ) from exc

    @cached_property
    def _compiled(self) -> Any:
        return _env.from_string(self.body)

    def _check_body(self) -> None:
        ast = self._ast
        for node in ast.find_all((nodes.Getattr, nodes.Getitem)):
            attr = node.attr if isinstance(node, nodes.Getattr) else getattr(node.arg, "value", None)
            if isinstance(attr, str) and attr.startswith("_"):
                raise TemplateError(
                    f"Access to {attr!r} is not allowed in templates: they render in a sandbox and may "
                    "only use variables, filters and loops.",
                    path=self._where,
                    line=self._file_line(node.lineno),
                )
        if self.inputs:
            unknown = [v for v in self.variables if v not in self.inputs and v not in self.retrieval_targets]
            if unknown:
                var = unknown[0]
                raise TemplateError(
                    f"Unknown variable {var!r}: it is used in the body but not declared under `inputs:`. "
                    f"Declared: {', '.join(self.inputs)}. Fix the spelling or declare it.",
                    path=self._where,
                    line=self._file_line(self._variable_lines.get(var, 1)),
                )
        make_parser(self.output)  # an unknown parser is an error now, not at the first model call

    @property
    def _where(self) -> str | None:
        return str(self.path) if self.path else f"<prompt {self.name}>"

    def _file_line(self, body_lineno: int | None) -> int:
        return self.body_line + max(0, (body_lineno or 1) - 1)

    @cached_property
    def _variable_lines(self) -> dict[str, int]:
        lines: dict[str, int] = {}
        assigned = {n.name for n in self._ast.find_all(nodes.Name) if n.ctx in ("store", "param")}
        for node in self._ast.find_all(nodes.Name):
            if node.ctx == "load" and node.name not in assigned:
                lines.setdefault(node.name, node.lineno)
        return lines

    @cached_property
    def variables(self) -> tuple[str, ...]:
        """Variables the body reads, in order of first use (loop variables excluded)."""
        from jinja2 import meta

        undeclared = meta.find_undeclared_variables(self._ast)
        order = sorted(undeclared, key=lambda v: (self._variable_lines.get(v, 10**9), v))
        return tuple(order)

    @property
    def retrieval_targets(self) -> tuple[str, ...]:
        """Variables the runner fills from a knowledge base instead of the dataset."""
        return tuple(self.retrieval) if self.retrieval else ()

    @property
    def required_variables(self) -> tuple[str, ...]:
        """Variables a dataset (or caller) must supply: not defaulted, not retrieved."""
        return tuple(
            v
            for v in self.variables
            if v not in self.retrieval_targets and (v not in self.inputs or self.inputs[v].default is None)
        )

    @property
    def parser(self) -> OutputParser:
        return make_parser(self.output)

    def parse_output(self, text: str) -> tuple[Any, str | None]:
        """(parsed value, None), or (None, why it did not parse): a bad output is a verdict, not a crash."""
        from workbench.errors import OutputParseError

        try:
            return self.parser.parse(text), None
        except OutputParseError as exc:
            return None, str(exc)

    @property
    def api(self) -> str:
        if self.model.api in ("chat", "completion"):
            return self.model.api
        return "chat" if ROLE_LINE.match(self.body.lstrip("\n")) else "completion"

    @property
    def examples(self) -> dict[str, Any]:
        return {k: spec.example for k, spec in self.inputs.items() if spec.example is not None}

    @property
    def content_hash(self) -> str:
        """sha256 of the canonical file text: identifies this exact version's content."""
        return hashlib.sha256(self.to_text().encode("utf-8")).hexdigest()

    @property
    def ref(self) -> str:
        return f"{self.name}@v{self.version}"

    # -- rendering ---------------------------------------------------------------------
    def render_text(self, variables: Mapping[str, Any] | None = None, /, **kwargs: Any) -> str:
        """Render the body to text (chat role markers still inline)."""
        values = {k: spec.default for k, spec in self.inputs.items() if spec.default is not None}
        values.update(variables or {})
        values.update(kwargs)
        missing = [v for v in self.variables if v not in values]
        if missing:
            line = self._file_line(self._variable_lines.get(missing[0], 1))
            raise MissingVariablesError(missing, path=self._where, line=line)
        try:
            return self._compiled.render(values)
        except SecurityError as exc:
            raise TemplateError(f"Blocked by the template sandbox: {exc}", path=self._where) from exc
        except UndefinedError as exc:
            raise TemplateError(
                f"{exc}. Check the variable's fields in the data you passed.", path=self._where
            ) from exc
        except Exception as exc:  # filters applied to the wrong type, etc.
            lineno = _template_lineno(exc)
            raise TemplateError(
                f"Rendering failed: {type(exc).__name__}: {exc}",
                path=self._where,
                line=self._file_line(lineno) if lineno else None,
            ) from exc

    def render(self, variables: Mapping[str, Any] | None = None, /, **kwargs: Any) -> PromptInput:
        """Render to what a model takes: plain text (completion) or a list of chat messages."""
        text = self.render_text(variables, **kwargs)
        if self.api == "chat":
            return split_messages(text, where=self._where)
        return text

    def retrieval_placeholders(self) -> dict[str, str]:
        """Stand-ins for retriever-filled variables, for previews that should not query a knowledge base."""
        return {
            target: f"[top {spec.get('k', 4)} chunks from {spec.get('knowledge_base')} for {{{spec.get('query')}}}]"
            for target, spec in self.retrieval.items()
            if isinstance(spec, Mapping)
        }

    def render_example(self) -> PromptInput:
        """Render with the example values declared under ``inputs:`` (retrieved variables as placeholders)."""
        return self.render({**self.retrieval_placeholders(), **self.examples})

    # -- editing and serialising -------------------------------------------------------
    def with_changes(self, **changes: Any) -> PromptTemplate:
        """A new template object with fields changed (validated again)."""
        return replace(self, **changes)

    def front_matter(self) -> dict[str, Any]:
        data: dict[str, Any] = {"name": self.name, "version": self.version}
        if self.dataset:
            data["dataset"] = self.dataset
        if self.description:
            data["description"] = self.description
        if self.tags:
            data["tags"] = list(self.tags)
        if self.model.to_dict():
            data["model"] = self.model.to_dict()
        if self.inputs:
            data["inputs"] = {k: v.to_dict() for k, v in self.inputs.items()}
        if self.retrieval:
            data["retrieval"] = dict(self.retrieval)
        if self.output:
            data["output"] = dict(self.output)
        if self.assertions:
            data["assertions"] = [dict(a) for a in self.assertions]
        data.update(self.extra)
        return data

    def to_text(self) -> str:
        front = yaml.safe_dump(self.front_matter(), allow_unicode=True, sort_keys=False, width=100)
        return f"---\n{front}---\n{self.body.rstrip()}\n"

    # -- LangChain ---------------------------------------------------------------------
    def to_langchain(self) -> Any:
        """A LangChain ``ChatPromptTemplate`` (chat) or ``PromptTemplate`` (completion), jinja2 format."""
        from langchain_core.prompts import ChatPromptTemplate
        from langchain_core.prompts import PromptTemplate as LCPromptTemplate

        if self.api == "chat":
            turns = split_messages(self.body, where=self._where)
            roles = {"system": "system", "user": "human", "assistant": "ai"}
            return ChatPromptTemplate.from_messages(
                [(roles[m.role], m.content) for m in turns], template_format="jinja2"
            )
        return LCPromptTemplate.from_template(self.body, template_format="jinja2")

    @classmethod
    def from_langchain(cls, lc_prompt: Any, *, name: str, **meta: Any) -> PromptTemplate:
        """Build a template from a LangChain ``PromptTemplate`` or ``ChatPromptTemplate``."""
        if hasattr(lc_prompt, "messages"):
            roles = {"system": "system", "human": "user", "ai": "assistant"}
            parts = []
            for message in lc_prompt.messages:
                prompt = getattr(message, "prompt", None)
                template = getattr(prompt, "template", None)
                fmt = getattr(prompt, "template_format", "f-string")
                if template is None:
                    template, fmt = str(getattr(message, "content", "")), "jinja2"
                role = roles.get(getattr(message, "_msg_type", None) or _lc_role(message), "user")
                parts.append(f"{role}:\n{_to_jinja(template, fmt)}")
            body = "\n".join(parts)
        else:
            body = _to_jinja(lc_prompt.template, getattr(lc_prompt, "template_format", "f-string"))
        return cls._from_meta({"name": name, **meta}, body, name=name, path=None, body_line=1)


def _lc_role(message: Any) -> str:
    kind = type(message).__name__.lower()
    for role in ("system", "human", "ai"):
        if kind.startswith(role):
            return role
    return "human"


def _to_jinja(template: str, fmt: str) -> str:
    if fmt == "jinja2":
        return template
    if fmt == "mustache":
        return template
    # f-string: {var} -> {{ var }}, {{ -> {, }} -> }
    out = re.sub(r"(?<!\{)\{([A-Za-z_][A-Za-z0-9_]*)\}(?!\})", r"{{ \1 }}", template)
    return out.replace("{{{{", "{").replace("}}}}", "}")


def _template_lineno(exc: BaseException) -> int | None:
    tb = exc.__traceback__
    lineno = None
    while tb is not None:
        if tb.tb_frame.f_code.co_filename == "<template>":
            lineno = tb.tb_lineno
        tb = tb.tb_next
    return lineno


def split_messages(text: str, *, where: str | None = None) -> list[ChatMessage]:
    """Split rendered chat text on ``role:`` lines into messages."""
    matches = list(ROLE_LINE.finditer(text))
    if not matches:
        return [ChatMessage("user", text.strip())]
    leading = text[: matches[0].start()].strip()
    if leading:
        raise TemplateError(
            "Chat body has text before its first `system:`/`user:` line. Put a role line first.",
            path=where,
        )
    messages = []
    for i, match in enumerate(matches):
        end = matches[i + 1].start() if i + 1 < len(matches) else len(text)
        content = text[match.end() : end].strip("\n").strip()
        messages.append(ChatMessage(match.group(1).lower(), content))  # type: ignore[arg-type]
    return messages


def _split_front_matter(text: str, where: str | None) -> tuple[str, str, int]:
    text = text.lstrip("\ufeff")
    lines = text.splitlines(keepends=True)
    if not lines or lines[0].strip() != "---":
        return "", text, 1
    for i in range(1, len(lines)):
        if lines[i].strip() == "---":
            return "".join(lines[1:i]), "".join(lines[i + 1 :]), i + 2
    raise TemplateError("Front matter starts with `---` but has no closing `---` line.", path=where, line=1)


class _FrontMatterLoader(yaml.SafeLoader):
    """SafeLoader with YAML 1.2 booleans: only true/false, so labels like yes/no/on/off stay strings."""


_FrontMatterLoader.yaml_implicit_resolvers = {
    first: [(tag, regexp) for tag, regexp in resolvers if tag != "tag:yaml.org,2002:bool"]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}
_FrontMatterLoader.add_implicit_resolver(
    "tag:yaml.org,2002:bool", re.compile(r"^(?:true|True|TRUE|false|False|FALSE)$"), list("tTfF")
)


def _parse_front_matter(front: str, where: str | None) -> dict[str, Any]:
    if not front.strip():
        return {}
    try:
        meta = yaml.load(front, Loader=_FrontMatterLoader)  # noqa: S506 - a SafeLoader subclass
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = mark.line + 2 if mark is not None else 1  # +1 for 0-based, +1 for the opening ---
        problem = getattr(exc, "problem", None) or str(exc)
        raise TemplateError(
            f"Broken YAML front matter: {problem}. Check indentation and quoting.", path=where, line=line
        ) from exc
    if not isinstance(meta, dict):
        raise TemplateError("Front matter must be a YAML mapping (key: value lines).", path=where, line=2)
    return meta


# ---------------------------------------------------------------------------------------
# The library: a folder of templates, with immutable history under _versions/
# ---------------------------------------------------------------------------------------
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

    def names(self) -> list[str]:
        return sorted(p.name.removesuffix(TEMPLATE_SUFFIX) for p in self.root.glob(f"*{TEMPLATE_SUFFIX}"))

    def templates(self) -> list[PromptTemplate]:
        return [self.get(name) for name in self.names()]

    def path_of(self, name: str) -> Path:
        return self.root / f"{name}{TEMPLATE_SUFFIX}"

    def _version_path(self, name: str, version: int) -> Path:
        return self.root / VERSIONS_DIR / name / f"v{version}{TEMPLATE_SUFFIX}"

    def get(self, name: str, version: int | None = None) -> PromptTemplate:
        """The current template, or a given version. ``name@vN`` also works."""
        if version is None and "@" in name:
            name, _, v = name.partition("@")
            version = int(v.lstrip("v"))
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
        folder = self.root / VERSIONS_DIR / name
        for path in folder.glob(f"v*{TEMPLATE_SUFFIX}"):
            try:
                found.add(int(path.name[1:].removesuffix(TEMPLATE_SUFFIX)))
            except ValueError:
                continue
        return sorted(found)

    def save(self, template: PromptTemplate) -> PromptTemplate:
        """Save an edit as the next version; unchanged content is not a new version.

        Returns the template as saved (with its new version number and path).
        """
        current_path = self.path_of(template.name)
        if current_path.exists():
            current = PromptTemplate.load(current_path)
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


def _same_content(a: PromptTemplate, b: PromptTemplate) -> bool:
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
