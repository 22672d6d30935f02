import json
import subprocess
import sys

import workbench


def test_import_is_light():
    code = (
        "import sys, workbench, workbench.prompts, workbench.pipeline, workbench.store; "
        "import json; print(json.dumps(sorted(m for m in sys.modules if m.split('.')[0] in "
        "('llama_cpp','chromadb','torch','langchain_core','openai','pandas','ipywidgets','IPython'))))"
    )
    heavy = json.loads(subprocess.check_output([sys.executable, "-c", code], text=True))
    assert heavy == [], f"import workbench pulled in {heavy}"


def test_public_api_is_complete_and_resolves():
    for name in workbench.__all__:
        assert getattr(workbench, name) is not None
    assert {"run", "PromptTemplate", "get_model", "Store", "BadCaseTracker"} <= set(workbench.__all__)
