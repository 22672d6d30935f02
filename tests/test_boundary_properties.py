"""Property tests (hypothesis) of the boundary: generated front matter, dataset rows and server bodies never get a
traceback — always the workbench's own error with a location (file and line, row, or field), no model call,
nothing stored. The number of examples is bounded, so `make test` stays quick."""

from __future__ import annotations

import string

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from workbench.errors import TemplateError, WorkbenchError
from workbench.pipeline import run
from workbench.prompts import PromptTemplate
from workbench.prompts.frontmatter import FrontMatter
from workbench.store import Store
from workbench.testing.models import MockModel

BOUNDED = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
KEYS = list(FrontMatter.model_fields) + ["asertions", "verison", "tag", "modle", "outputs", "templte", "x"]
SCALARS = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-5, 40000),
    st.floats(-3, 3, allow_nan=False),
    st.text(string.ascii_letters + "_{}./ 中", max_size=12),
)
VALUES = st.recursive(
    SCALARS,
    lambda inner: st.one_of(
        st.lists(inner, max_size=3),
        st.dictionaries(
            st.sampled_from(["parser", "labels", "type", "spec", "parameters", "temperature", "k"]), inner, max_size=3
        ),
    ),
    max_leaves=8,
)


@BOUNDED
@given(st.dictionaries(st.sampled_from(KEYS), VALUES, max_size=5))
def test_generated_front_matter_is_a_template_or_an_error_with_file_and_line(meta):
    text = "---\n" + yaml.safe_dump(meta, allow_unicode=True) + "---\n{{ text }}\n"
    try:
        PromptTemplate.from_string(text, path="generated.prompty")
    except TemplateError as exc:
        assert exc.path == "generated.prompty" and exc.line and exc.line >= 1, str(exc)
        assert str(exc).startswith(f"generated.prompty:{exc.line}: ")


TEMPLATE = PromptTemplate.from_string(
    "---\nname: rows\noutput: {parser: label, labels: [positive, negative]}\n"
    "assertions: [{type: label}]\n---\n{{ text }}"
)
CELLS = st.one_of(st.none(), st.just(""), st.integers(0, 3), st.text(string.ascii_letters + " ", max_size=6))
ROWS = st.lists(
    st.fixed_dictionaries({}, optional={"id": CELLS, "text": CELLS, "expected": CELLS, "other": CELLS}),
    min_size=1,
    max_size=6,
)


@BOUNDED
@given(ROWS)
def test_generated_rows_run_or_fail_before_any_call_with_nothing_stored(tmp_path_factory, rows):
    store = Store(tmp_path_factory.mktemp("rows") / "s.db")
    model = MockModel(default="positive")
    try:
        run(TEMPLATE, rows, [model], store=store, progress=False)
    except WorkbenchError as exc:
        assert model.calls == 0, "bad rows are found before any model call"
        assert store.stats()["runs"] == 0 and store.stats()["results"] == 0, "nothing stored"
        assert any(word in str(exc) for word in ("row", "column", "id")), str(exc)
    finally:
        store.close()


BODY_KEYS = ["model", "messages", "prompt", "stream", "max_tokens", "temperature", "stop", "seed", "top_p"]
BODY_KEYS += ["variables", "id", "rating", "note", "expected", "parameters", "text"]
FIELDS = st.sampled_from(BODY_KEYS)
MESSAGE = st.fixed_dictionaries({"role": st.sampled_from(["user", "system", 3]), "content": VALUES})
BODY_VALUES = st.one_of(VALUES, st.lists(MESSAGE, max_size=3), st.just("b"))
PATHS = st.sampled_from(["/v1/chat/completions", "/v1/completions", "/v1/prompts/b", "/v1/feedback"])


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(PATHS, st.dictionaries(FIELDS, BODY_VALUES, max_size=6))
def test_generated_server_bodies_never_get_a_500(served_client, path, body):
    test_client, model = served_client
    before = model.calls
    response = test_client.post(path, json=body)
    assert response.status_code < 500, (path, body, response.text)
    if response.status_code >= 400:
        assert response.json()["error"]["message"], response.text
        assert model.calls == before, "a refused request calls no model"


@pytest.fixture(scope="module")
def served_client(tmp_path_factory):
    from starlette.testclient import TestClient

    from workbench.serve import create_app

    model = MockModel(default="positive", concurrency=1)
    store = Store(tmp_path_factory.mktemp("serve") / "s.db")
    template = PromptTemplate.from_string(
        "---\nname: b\noutput: {parser: label, labels: [positive, negative]}\n---\n{{ text }}"
    )
    with TestClient(create_app(template, model, store=store), raise_server_exceptions=False) as client:
        yield client, model
