"""Output parsers: turn a model's raw text into the value a scorer compares.

Declared in a template's front matter under ``output:``::

    output: {parser: text}                                   # stripped text
    output: {parser: label, labels: {positive: [开心, good], negative: [难过, 累, bad]}}
    output: {parser: json, schema: {type: object, required: [name]}}
    output: {parser: regex, pattern: "Answer:\\s*(\\d+)", group: 1}

Label matching normalises both sides first (Unicode NFKC, so full-width ＡＢＣ and ，become
ASCII; case-folding; whitespace and punctuation dropped), then takes the label whose word
appears earliest in the output. A 270M base model often says "累" (tired) for a negative
cloze, which is why labels map to *lists* of words.
"""

from __future__ import annotations

import json
import re
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, ClassVar

from workbench.errors import ConfigError, OutputParseError
from workbench.optiondoc import REQUIRED, Option
from workbench.registry import Registry


def normalize_text(text: str) -> str:
    """NFKC + casefold + drop whitespace and punctuation/symbols (ASCII and CJK alike)."""
    text = unicodedata.normalize("NFKC", text).casefold()
    return "".join(ch for ch in text if not (ch.isspace() or unicodedata.category(ch)[0] in "PS"))


@dataclass(frozen=True)
class OutputParser:
    """The output's text, stripped of the whitespace around it (the ``text`` parser).

    The base of every parser: ``parse(text)`` returns the parsed value or raises :class:`OutputParseError`."""

    #: The keys this parser reads under ``output:`` (besides ``parser``, ``method`` and ``constrain``).
    OPTIONS: ClassVar[tuple[Option, ...]] = ()
    kind: str = "text"

    @classmethod
    def from_config(cls, config: dict[str, Any]) -> OutputParser:
        return cls()

    def parse(self, text: str) -> Any:
        return text.strip()

    def parse_row(self, text: str, row: dict[str, Any]) -> Any:
        """Parse an output knowing its dataset row; parsers whose answers depend on the row override this."""
        return self.parse(text)

    def answer_from_scores(self, best_word: str, label_scores: dict[str, float]) -> str:
        """The output of log-probability label scoring: the best label's best word (what the model would say)."""
        return best_word

    def describe(self) -> dict[str, Any]:
        return {"parser": self.kind}


@dataclass(frozen=True)
class LabelParser(OutputParser):
    """Map free text onto one of a fixed set of labels via each label's word list: both sides normalised (NFKC,
    case-folded, spaces and punctuation dropped), the label whose word appears earliest in the output wins (the
    longer word on a tie); an output with none of the words is a parse error (the row fails, its text is kept)."""

    OPTIONS: ClassVar[tuple[Option, ...]] = (
        Option(
            "labels",
            "list of labels, or map label → list of words",
            REQUIRED,
            "The labels; a map also lists the words that mean each label (`positive: [great, good]`). The label's "
            "own name always counts as one of its words.",
        ),
    )
    kind: str = "label"
    labels: dict[str, tuple[str, ...]] = field(default_factory=dict)

    @classmethod
    def from_config(cls, config: dict[str, Any]) -> LabelParser:
        raw = config.get("labels")
        if isinstance(raw, list):
            raw = {str(label): [str(label)] for label in raw}
        if not isinstance(raw, dict) or not raw:
            raise ConfigError("A label parser needs `labels:` — a list of labels or a map label -> words.")
        labels = {}
        for label, words in raw.items():
            words = [words] if isinstance(words, str) else list(words or [])
            labels[str(label)] = tuple(dict.fromkeys([str(label), *map(str, words)]))
        return cls(labels=labels)

    @property
    def label_names(self) -> list[str]:
        return list(self.labels)

    def parse(self, text: str) -> str:
        normalized = normalize_text(text)
        best: tuple[int, int, str] | None = None  # (position, -len(word), label)
        for label, words in self.labels.items():
            for word in words:
                needle = normalize_text(word)
                if not needle:
                    continue
                pos = normalized.find(needle)
                if pos >= 0 and (best is None or (pos, -len(needle)) < best[:2]):
                    best = (pos, -len(needle), label)
        if best is None:
            raise OutputParseError(
                f"Output {text.strip()[:60]!r} matches none of the labels {', '.join(self.labels)}. "
                "Add the word the model used to a label's list under output.labels."
            )
        return best[2]

    def normalize_label(self, value: Any) -> str:
        """The canonical label for an expected value written in any of its forms."""
        try:
            return self.parse(str(value))
        except OutputParseError:
            return normalize_text(str(value))

    def describe(self) -> dict[str, Any]:
        return {"parser": self.kind, "labels": {k: list(v) for k, v in self.labels.items()}}


_LETTER = re.compile(r"(?<![A-Za-z])([A-Z])(?![A-Za-z])")


@dataclass(frozen=True)
class ChoiceParser(LabelParser):
    """Multiple-choice answers (C-Eval / MMLU style): the output's first standalone option letter.

    ``output: {parser: choice, options: [A, B, C, D], method: logprob, score_by: letter}`` — with ``method:
    logprob`` each option is scored by the log-probability of its letter (``score_by: letter``) or of the row's
    option text (``score_by: text``), and the best one is the answer.
    """

    OPTIONS: ClassVar[tuple[Option, ...]] = (
        Option("options", "list of single letters", ["A", "B", "C", "D"], "The option letters a row offers."),
        Option(
            "score_by",
            "letter | text",
            "letter",
            "With `method: logprob`: score each option by its letter, or by the row's text for that option (the "
            "dataset then has a column per letter).",
        ),
    )
    kind: str = "choice"
    score_by: str = "letter"

    @classmethod
    def from_config(cls, config: dict[str, Any]) -> ChoiceParser:
        options = [str(o).strip() for o in config.get("options") or cls.OPTIONS[0].default]
        if not options or any(len(o) != 1 or not o.isalpha() for o in options):
            raise ConfigError("A choice parser needs `options:` — single letters, e.g. [A, B, C, D].")
        score_by = str(config.get("score_by", cls.OPTIONS[1].default))
        if score_by not in ("letter", "text"):
            raise ConfigError(f"`score_by: {score_by}` — use letter or text.")
        # " A": after "Answer:" the model writes the letter after a space, so that is the token to score
        return cls(labels={o.upper(): (o.upper(), f" {o.upper()}") for o in options}, score_by=score_by)

    def candidates(self, row: dict[str, Any]) -> dict[str, tuple[str, ...]]:
        """What to score per option: its letter, or the row's text for that option (``score_by: text``)."""
        if self.score_by == "text":
            return {letter: (f" {row.get(letter, '')}".rstrip(),) for letter in self.labels}
        return {letter: (f" {letter}",) for letter in self.labels}

    def answer_from_scores(self, best_word: str, label_scores: dict[str, float]) -> str:
        """A choice's answer is its letter, whatever was scored (the letter or the option's text)."""
        return max(label_scores, key=label_scores.__getitem__)

    def parse_row(self, text: str, row: dict[str, Any]) -> str:
        """With ``score_by: text`` a model that generates (an endpoint without log-probabilities) writes the
        answer itself, not its letter: an output that is exactly one option's text is that option."""
        if self.score_by == "text":
            written = normalize_text(text)
            matches = [
                letter for letter in self.labels if written and written == normalize_text(str(row.get(letter, "")))
            ]
            if len(matches) == 1:
                return matches[0]
        return self.parse(text)

    def parse(self, text: str) -> str:
        for match in _LETTER.finditer(unicodedata.normalize("NFKC", text).upper()):
            if match.group(1) in self.labels:
                return match.group(1)
        raise OutputParseError(
            f"Output {text.strip()[:60]!r} names none of the options {', '.join(self.labels)}. "
            "Ask for the letter only (end the prompt with 'Answer:'), or score by log-probability (method: logprob)."
        )

    def describe(self) -> dict[str, Any]:
        return {"parser": self.kind, "options": list(self.labels), "score_by": self.score_by}


_FENCE = re.compile(r"```(?:json)?\s*(.*?)```", re.DOTALL)


def extract_json(text: str) -> Any:
    """The first JSON value in ``text`` (inside a ```json fence, or the first {...}/[...])."""
    candidates = [m.group(1) for m in _FENCE.finditer(text)] + [text]
    decoder = json.JSONDecoder()
    for candidate in candidates:
        for i, ch in enumerate(candidate):
            if ch in "{[":
                try:
                    value, _ = decoder.raw_decode(candidate[i:])
                    return value
                except json.JSONDecodeError:
                    continue
    raise OutputParseError(f"No JSON object found in the output: {text.strip()[:80]!r}")


@dataclass(frozen=True)
class JsonParser(OutputParser):
    """The first JSON value in the output (in a json code fence, or else the first ``{...}`` or ``[...]``), optionally
    validated against a JSON Schema (a mismatch is a parse error naming the path)."""

    OPTIONS: ClassVar[tuple[Option, ...]] = (
        Option(
            "schema",
            "JSON Schema (a mapping)",
            None,
            "Validate the value against it; `constrain: true` also "
            "asks an engine that can (llama.cpp) to generate only JSON that fits.",
        ),
    )
    kind: str = "json"
    schema: dict[str, Any] | None = None

    @classmethod
    def from_config(cls, config: dict[str, Any]) -> JsonParser:
        return cls(schema=config.get("schema"))

    def parse(self, text: str) -> Any:
        value = extract_json(text)
        if self.schema:
            import jsonschema

            try:
                jsonschema.validate(value, self.schema)
            except jsonschema.ValidationError as exc:
                where = "/".join(map(str, exc.absolute_path)) or "(root)"
                raise OutputParseError(f"JSON does not match the schema at {where}: {exc.message}") from exc
        return value

    def describe(self) -> dict[str, Any]:
        return {"parser": self.kind, "schema": self.schema}


@dataclass(frozen=True)
class RegexParser(OutputParser):
    """A regular expression's match in the output (Python ``re.search``, ``.`` matching newlines too); no match is a
    parse error."""

    OPTIONS: ClassVar[tuple[Option, ...]] = (
        Option("pattern", "regular expression", REQUIRED, "What to find, e.g. `'Answer:\\s*(\\d+)'`."),
        Option("group", "int | str", 1, "The group to keep (a number or a name); the whole match if it has none."),
    )
    kind: str = "regex"
    pattern: str = ""
    group: int | str = 1

    @classmethod
    def from_config(cls, config: dict[str, Any]) -> RegexParser:
        pattern = config.get("pattern")
        if not pattern:
            raise ConfigError("A regex parser needs `pattern:` (a Python regular expression).")
        try:
            re.compile(pattern)
        except re.error as exc:
            raise ConfigError(f"Invalid regex pattern {pattern!r}: {exc}") from exc
        return cls(pattern=pattern, group=config.get("group", cls.OPTIONS[1].default))

    def parse(self, text: str) -> str:
        match = re.search(self.pattern, text, flags=re.DOTALL)
        if not match:
            raise OutputParseError(f"Pattern {self.pattern!r} not found in the output: {text.strip()[:80]!r}")
        try:
            return match.group(self.group).strip()
        except IndexError:
            return match.group(0).strip()

    def describe(self) -> dict[str, Any]:
        return {"parser": self.kind, "pattern": self.pattern, "group": self.group}


ParserFactory = Callable[[dict[str, Any]], OutputParser]
PARSERS: Registry[ParserFactory] = Registry("output parser", group="workbench.parsers")
PARSERS.register("text", OutputParser.from_config)
PARSERS.register("label", LabelParser.from_config)
PARSERS.register("json", JsonParser.from_config)
PARSERS.register("regex", RegexParser.from_config)
PARSERS.register("choice", ChoiceParser.from_config)


def parser_class(name: str) -> type[OutputParser] | None:
    """The class behind a registered parser whose factory is a ``from_config`` (the built-ins); ``None`` for a
    plugin's plain function."""
    owner = getattr(PARSERS.get(name), "__self__", None)
    return owner if isinstance(owner, type) and issubclass(owner, OutputParser) else None


def parser_options(name: str) -> set[str] | None:
    """The option keys a parser reads under ``output:``; ``None`` when it does not say (a plugin)."""
    cls = parser_class(name) if name in PARSERS else None
    return None if cls is None else {o.name for o in cls.OPTIONS}


def register_parser(name: str, factory: ParserFactory | str) -> None:
    """Register ``factory(output_config) -> OutputParser`` under a name usable as ``output: {parser: NAME}``."""
    PARSERS.register(name, factory)


def make_parser(config: dict[str, Any] | None) -> OutputParser:
    """Build a parser from a template's ``output:`` section (``None`` means plain text)."""
    config = dict(config or {})
    return PARSERS.get(str(config.get("parser", "text")))(config)
