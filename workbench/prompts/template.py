"""A prompt template: parsed front matter + a sandboxed Jinja2 body, immutable.

A template file (``prompt_library/NAME.prompty``) looks like Microsoft's Prompty::

    ---
    name: sentiment_cloze_zh
    version: 2
    description: 情感分类（完形填空）
    model: {spec: local, api: completion, parameters: {temperature: 0, max_tokens: 4}}
    inputs:
      text: {description: 一句话, example: 我今天考砸了。}
    output: {parser: label, labels: {positive: [开心], negative: [难过, 累]}}
    assertions:
      - {type: label}
    ---
    {{ text }}我感觉很

The body is plain completion text, or chat turns introduced by ``system:`` / ``user:`` / ``assistant:`` on lines
of their own (few-shot turns allowed; Jinja loops may emit them).

Why a sandbox: a shared library of prompt files must not be able to run code, so bodies render in Jinja2's
``SandboxedEnvironment`` and attribute access to ``_private`` names is refused when the file is loaded, before
any model call. The file's exact text is kept (``source``), so what is saved and stored is what was written.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from functools import cached_property
from pathlib import Path
from typing import Any

from jinja2 import StrictUndefined, TemplateSyntaxError, UndefinedError, nodes
from jinja2.exceptions import SecurityError
from jinja2.sandbox import ImmutableSandboxedEnvironment

from workbench.errors import MissingVariablesError, TemplateError
from workbench.identity import PromptRef
from workbench.models.base import PromptInput
from workbench.parsers import OutputParser, make_parser
from workbench.prompts.fileformat import (
    TEMPLATE_SUFFIX,
    dump_front_matter,
    parse_front_matter,
    split_front_matter,
)
from workbench.prompts.spec import ROLE_LINE, InputSpec, ModelDefaults, split_messages, template_fields

_env = ImmutableSandboxedEnvironment(undefined=StrictUndefined, keep_trailing_newline=False, autoescape=False)


def render_string(text: str, values: Mapping[str, Any]) -> str:
    """Render a small Jinja2 string (an assertion's ``value:``) in the same sandbox as template bodies."""
    return _env.from_string(text).render(dict(values))


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
    tools: tuple[Any, ...] = ()  # as declared: OpenAI-style definitions and/or names of registered Python tools
    agent: Mapping[str, Any] = field(default_factory=dict)  # {max_steps, tool_timeout}
    dataset: str | None = None  # the dataset this prompt is evaluated on, relative to the project
    metadata: Mapping[str, Any] = field(default_factory=dict)  # free-form data the file keeps under `metadata:`
    path: Path | None = field(default=None, compare=False)
    body_line: int = field(default=1, compare=False)  # file line where the body starts
    source: str | None = field(default=None, compare=False, repr=False)  # the file's exact text, if read from one

    # -- construction ------------------------------------------------------------------
    def __post_init__(self) -> None:
        self._check_body()

    @classmethod
    def from_string(cls, text: str, *, name: str | None = None, path: str | Path | None = None) -> PromptTemplate:
        """Parse a template file's text (front matter optional)."""
        where = str(path) if path else None
        front, body, body_line = split_front_matter(text, where)
        meta = parse_front_matter(front, where)
        template = cls._from_meta(
            meta, body, name=name, path=Path(path) if path else None, body_line=body_line, front=front
        )
        return replace(template, source=text)

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
        cls, meta: dict[str, Any], body: str, *, name: str | None, path: Path | None, body_line: int, front: str = ""
    ) -> PromptTemplate:
        fields = template_fields(meta, name=name, path=path, front=front)
        return cls(body=body, path=path, body_line=body_line, **fields)

    @cached_property
    def _ast(self) -> nodes.Template:
        try:
            return _env.parse(self.body)
        except TemplateSyntaxError as exc:
            message = (exc.message or "").rstrip(".")  # Jinja's messages may end in a full stop: not two
            raise TemplateError(
                f"Jinja syntax error: {message}. Check the {{{{ }}}} / {{% %}} pairs on that line.",
                path=self._where,
                line=self._file_line(_opening_line(self.body, exc.lineno)),
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
            unknown = [
                v
                for v in self.variables
                if v not in self.inputs and v not in self.retrieval_targets and v not in self.provided_variables
            ]
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
    def provided_variables(self) -> tuple[str, ...]:
        """Variables the workbench fills itself: ``tools`` (the declared tools as a text block) when tools are
        declared."""
        return ("tools",) if self.tools else ()

    @property
    def required_variables(self) -> tuple[str, ...]:
        """Variables a dataset (or caller) must supply: not defaulted, not retrieved, not provided."""
        return tuple(
            v
            for v in self.variables
            if v not in self.retrieval_targets
            and v not in self.provided_variables
            and (v not in self.inputs or self.inputs[v].default is None)
        )

    @property
    def toolset(self) -> Any:
        """The declared tools, resolved (:class:`workbench.tools.ToolSet`; empty without ``tools:``). Registered
        names are looked up now, in this process's registry: an unknown one is an error naming the file and line."""
        from workbench.tools.registry import template_toolset

        return template_toolset(self)

    @property
    def parser(self) -> OutputParser:
        return make_parser(self.output)

    def parse_output(self, text: str, row: dict[str, Any] | None = None) -> tuple[Any, str | None]:
        """(parsed value, None), or (None, why it did not parse): a bad output is a verdict, not a crash. The row
        lets a parser read its options (a multiple-choice answer written out as the option's text)."""
        from workbench.errors import OutputParseError

        try:
            return self.parser.parse_row(text, row or {}), None
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
        """sha256 of the file text: identifies this exact version's content."""
        return hashlib.sha256(self.to_text().encode("utf-8")).hexdigest()

    @property
    def ref(self) -> str:
        """``name@vN``."""
        return str(self.prompt_ref)

    @property
    def prompt_ref(self) -> PromptRef:
        return PromptRef(self.name, self.version)

    @cached_property
    def static_prefix(self) -> str:
        """The body's literal text before its first variable, loop or tag: the same for every row.

        Models that can keep the evaluated state of a prefix (``capabilities.prefix_cache``) evaluate it once.
        Empty for chat templates (their text is reformatted per model) and for bodies that start with a tag.
        """
        if self.api != "completion":
            return ""
        first = self._ast.body[0] if self._ast.body else None
        if not isinstance(first, nodes.Output):
            return ""
        literal = []
        for node in first.nodes:
            if isinstance(node, nodes.Name) and node.name == "tools" and self.tools:
                literal.append(self.toolset.block())  # the declared tools: the same text for every row
                continue
            if not isinstance(node, nodes.TemplateData):
                break
            literal.append(node.data)
        prefix = "".join(literal)
        more_follows = len(first.nodes) > len(literal) or len(self._ast.body) > 1
        return prefix if prefix.strip() and more_follows else ""

    @cached_property
    def literal_text(self) -> tuple[str, ...]:
        """The body's own words: every literal stretch between variables and tags (instructions, examples,
        markers). A scorer uses them to tell an answer from an echo of the prompt."""
        return tuple(node.data for node in self._ast.find_all(nodes.TemplateData) if node.data.strip())

    # -- rendering ---------------------------------------------------------------------
    def render_text(self, variables: Mapping[str, Any] | None = None, /, **kwargs: Any) -> str:
        """Render the body to text (chat role markers still inline)."""
        values = {k: spec.default for k, spec in self.inputs.items() if spec.default is not None}
        values.update(variables or {})
        values.update(kwargs)
        if self.tools and "tools" in self.variables and "tools" not in values:
            values["tools"] = self.toolset.block()
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
        """A new template object with fields changed (validated again). Its text is re-serialised, unless only
        the version or path changed (then the file's own text is kept, with its version line updated)."""
        from workbench.prompts.fileformat import with_version

        keep_source = self.source is not None and set(changes) <= {"version", "path"}
        source = with_version(self.source, changes.get("version", self.version)) if keep_source else None
        return replace(self, **changes, source=source)

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
        if self.tools:
            data["tools"] = [t if isinstance(t, str) else dict(t) for t in self.tools]
        if self.agent:
            data["agent"] = dict(self.agent)
        if self.output:
            data["output"] = dict(self.output)
        if self.assertions:
            data["assertions"] = [dict(a) for a in self.assertions]
        if self.metadata:
            data["metadata"] = dict(self.metadata)
        return data

    def to_text(self) -> str:
        """The file text: exactly as read or typed when there is one, else front matter + body serialised."""
        if self.source is not None:
            return self.source
        return f"---\n{dump_front_matter(self.front_matter())}---\n{self.body.rstrip()}\n"


def _opening_line(body: str, lineno: int) -> int:
    """The body line of a syntax error: where the unclosed ``{{`` / ``{%`` opens, when one is open there.

    Why: Jinja reports an unclosed tag where it gives up — at the next token, often on the next line
    (``Text: {{ text`` then ``Overall, it was`` is reported on the ``Overall`` line). The user's mistake is the
    opening tag, so that is the line to name and mark.
    """
    opened: int | None = None
    try:
        for token_line, kind, _ in _env.lex(body):
            if token_line > lineno:
                break
            if kind in ("variable_begin", "block_begin"):
                opened = token_line
            elif kind in ("variable_end", "block_end"):
                opened = None
    except TemplateSyntaxError:
        pass  # the lexer stopped at the error: what it read so far is enough
    return opened if opened is not None and opened < lineno else lineno


def _template_lineno(exc: BaseException) -> int | None:
    tb = exc.__traceback__
    lineno = None
    while tb is not None:
        if tb.tb_frame.f_code.co_filename == "<template>":
            lineno = tb.tb_lineno
        tb = tb.tb_next
    return lineno
