"""The life of one cell (``CellExecutor``): a streamed answer leaves exactly one record however its reader ends it,
on a real store."""

from __future__ import annotations

import asyncio

import pytest

from workbench.models import GenerationParams
from workbench.pipeline import CellExecutor, Recorder, plan_request
from workbench.pipeline.writer import RecordPath
from workbench.prompts import PromptTemplate
from workbench.testing.models import MockModel

TEMPLATE = PromptTemplate.from_string(
    "---\nname: streamed\noutput: {parser: label, labels: [yes, no]}\n---\nQuestion: {{ question }}\nAnswer:"
)


def _executor(store_url: str) -> tuple[CellExecutor, str]:
    recorder = Recorder(store_url)
    run_id = recorder.begin_serving([TEMPLATE], MockModel(), provenance={})
    return CellExecutor(RecordPath(recorder, run_id, reproducible_only=True)), run_id


def _cell(model: MockModel):
    return plan_request(TEMPLATE, model, {"question": "q"}, params=GenerationParams(), row_id="cmpl-1")


@pytest.mark.parametrize("model_done", [True, False], ids=["after-the-model-finished", "mid-answer"])
def test_a_reader_that_leaves_a_stream_leaves_exactly_one_record(store_url, model_done):
    executor, run_id = _executor(store_url)
    model = MockModel(default="yes it is true as ever")

    async def read_one_piece_then_leave() -> None:
        pieces = executor.stream(_cell(model), [])
        await pieces.__anext__()  # the first piece
        if model_done:
            while model.calls == 0:
                await asyncio.sleep(0.01)
            await asyncio.sleep(0.1)  # the model has produced its whole answer
        await pieces.aclose()  # the reader leaves
        await executor.aclose()

    if not model_done:
        model.default = "yes"  # one piece only would end the stream: make the answer long but unfinished
        model = _Unfinished()
    asyncio.run(read_one_piece_then_leave())
    records = executor.recorder.store.results(run_id)
    assert len(records) == 1, records
    record = records[0]
    assert record.details.get("disconnected") is True
    if model_done:
        assert record.output.split() == "yes it is true as ever".split() and record.parsed == "yes"
        assert record.error is None, "a finished answer is recorded whole, parsed and judged"
    else:
        assert record.output.startswith("yes") and "client disconnected" in record.error


class _Unfinished(MockModel):
    """Streams one piece, then waits (a model still generating when its reader leaves)."""

    def _call(self, request, sink):
        import time

        self.history.append((request.prompt, request.params))
        sink("yes ")
        time.sleep(0.5)
        sink("it ")  # the reader has left: the sink is closed and stops the model here
        return super()._call(request, None)
