"""The filter transform: keep matching events, drop and count the rest."""

from __future__ import annotations

import msgspec
import pytest

from logferry.agent.event import Batch
from logferry.transforms.filter import FilterConfig
from tests.transforms.util import build, decode, dropped, run


class TestFilter:
    def test_keeps_matching_events_and_counts_the_rest(self) -> None:
        """Non-matching events are dropped with reason 'filtered' and counted."""
        t = build(decode(FilterConfig, {"type": "filter", "condition": "ml.loss > 1 or exists(error.type)"}))
        events = [{"ml.loss": 2.0}, {"ml.loss": 0.5}, {"error.type": "RuntimeError"}, {}]
        assert run(t, events) == [{"ml.loss": 2.0}, {"error.type": "RuntimeError"}]
        assert dropped(t, "filtered") == 2

    def test_all_dropped_returns_none(self) -> None:
        """A batch with nothing left gives None (the runner then settles its ack as delivered)."""
        t = build(decode(FilterConfig, {"type": "filter", "condition": "false"}))
        assert t.process(Batch.from_events([{"a": 1}])) is None
        assert dropped(t, "filtered") == 1

    def test_columnar_batch_from_lines(self) -> None:
        """A batch still in line form is filtered on its messages."""
        t = build(decode(FilterConfig, {"type": "filter", "condition": 'message =~ "loss"'}))
        out = t.process(Batch.from_lines(["loss=1", "hello"], {"log.file.path": "/x"}))
        assert out is not None and out.events == [{"log.file.path": "/x", "message": "loss=1"}]

    def test_bad_condition_is_a_config_error_with_column(self) -> None:
        """A syntax error in the condition is reported at load with its column."""
        with pytest.raises(msgspec.ValidationError, match="column 10"):
            decode(FilterConfig, {"type": "filter", "condition": "ml.loss >"})
