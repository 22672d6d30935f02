"""MkDocs hooks: the reference pages are filled in from the code at build time, so they cannot drift from it.

- ``<!-- generated: template-reference -->``: every front-matter key, parser and scorer with its options
  (:func:`workbench.prompts.reference.reference_markdown`, read from the pydantic models and the registries);
- ``<!-- generated: cli-reference -->``: every command, argument and option (:func:`workbench.cli.reference.markdown`,
  Typer's own generator over the command tree);
- ``<!-- generated: python-api -->``: one mkdocstrings block per public name of ``workbench`` (``wb.*``), in the order
  of ``workbench._EXPORTS``, so a name added to the package appears here without an edit.
"""

from __future__ import annotations

from typing import Any

TEMPLATE_REFERENCE = "<!-- generated: template-reference -->"
PYTHON_API = "<!-- generated: python-api -->"
CLI_REFERENCE = "<!-- generated: cli-reference -->"


def on_page_markdown(markdown: str, page: Any, config: Any, files: Any) -> str:
    if TEMPLATE_REFERENCE in markdown:
        from workbench.prompts.reference import reference_markdown

        markdown = markdown.replace(TEMPLATE_REFERENCE, reference_markdown())
    if CLI_REFERENCE in markdown:
        from workbench.cli.reference import markdown as cli_markdown

        markdown = markdown.replace(CLI_REFERENCE, cli_markdown())
    if PYTHON_API in markdown:
        markdown = markdown.replace(PYTHON_API, python_api())
    return markdown


def python_api() -> str:
    import workbench

    blocks = []
    for name, module in workbench._EXPORTS.items():
        blocks.append(f"::: {module}.{name}\n    options:\n      heading: wb.{name}\n")
    return "\n".join(blocks)
