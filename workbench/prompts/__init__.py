"""Prompt templates as files: the file format, the template, the versioned library, LangChain interop.

from workbench.prompts import PromptLibrary, load_prompt
template = load_prompt("sentiment_cloze_zh@v1")
template.render(text="我今天考砸了。")
"""

from workbench.prompts.fileformat import TEMPLATE_SUFFIX
from workbench.prompts.library import PromptLibrary, default_library_path, diff_templates, iter_variables, load_prompt
from workbench.prompts.spec import InputSpec, ModelDefaults, split_messages
from workbench.prompts.template import PromptTemplate, render_string

__all__ = [
    "TEMPLATE_SUFFIX",
    "InputSpec",
    "ModelDefaults",
    "PromptLibrary",
    "PromptTemplate",
    "default_library_path",
    "diff_templates",
    "iter_variables",
    "load_prompt",
    "render_string",
    "split_messages",
]
