"""``WorkbenchChat.with_structured_output``: decoding constrained to the schema, then parsed.

The local model takes a JSON schema with the request (``Request.json_schema``); llama.cpp compiles it into a grammar,
so every token it samples keeps the output valid JSON of that shape — on a 270M base model that cannot follow an
instruction to "answer in JSON". Every ``method`` LangChain names is served by that grammar: ``json_schema`` and
``function_calling`` with the schema itself (tool calling is not wired into WorkbenchChat, and a grammar is the
stricter of the two anyway), ``json_mode`` with "any JSON object". ``strict`` is accepted and always true.
A model that cannot constrain its decoding (``Capabilities.structured_output`` false: ``openai:`` endpoints here) is
refused with the reason, rather than asked nicely and parsed hopefully.
The answer must still fit ``max_tokens``: a grammar does not make a long answer shorter. LangChain's JSON parser closes
a cut-off answer (its partial-JSON repair), so a value may end mid-sentence, and a required field never reached fails
validation; the raw message (``include_raw=True``) says ``finish_reason: length`` when that happened.
"""

from __future__ import annotations

from operator import itemgetter
from typing import Any

from langchain_core.output_parsers import JsonOutputParser, PydanticOutputParser
from langchain_core.runnables import Runnable, RunnableMap, RunnablePassthrough
from langchain_core.utils.function_calling import convert_to_json_schema
from langchain_core.utils.pydantic import is_basemodel_subclass

from workbench.errors import ConfigError

METHODS = ("json_schema", "function_calling", "json_mode")


def structured(
    chat: Any, schema: dict[str, Any] | type, *, method: str, include_raw: bool, strict: bool | None
) -> Runnable:
    """The chat model bound to the schema's grammar, piped into the schema's parser."""
    if method not in METHODS:
        raise ConfigError(f"with_structured_output(method={method!r}): use one of {', '.join(METHODS)}.")
    model = chat.workbench_model
    if not model.capabilities.structured_output:
        raise ConfigError(
            f"{chat.model} cannot constrain its decoding to a JSON schema, so with_structured_output would only be "
            "a hope. Use the local model, or the provider's own LangChain chat model (e.g. ChatOpenAI) for this."
        )
    json_schema = convert_to_json_schema(schema)
    grammar = {"type": "object"} if method == "json_mode" else json_schema
    bound = chat.bind(
        json_schema=grammar,
        ls_structured_output_format={"kwargs": {"method": method, "strict": strict}, "schema": json_schema},
    )
    is_pydantic = isinstance(schema, type) and is_basemodel_subclass(schema)
    parser = PydanticOutputParser(pydantic_object=schema) if is_pydantic else JsonOutputParser()  # type: ignore[arg-type]
    if not include_raw:
        return bound | parser
    parsed = RunnablePassthrough.assign(parsed=itemgetter("raw") | parser, parsing_error=lambda _: None)
    failed = RunnablePassthrough.assign(parsed=lambda _: None)
    return RunnableMap(raw=bound) | parsed.with_fallbacks([failed], exception_key="parsing_error")
