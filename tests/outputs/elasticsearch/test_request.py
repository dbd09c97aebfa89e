"""BulkRequest: per-batch ack settlement from per-item final states."""

from __future__ import annotations

from logferry.agent.acks import AckStatus, AckToken
from logferry.agent.event import Batch
from logferry.outputs.elasticsearch.encoder import BulkEncoder
from logferry.outputs.elasticsearch.request import BulkRequest

from tests.outputs.elasticsearch.helpers import make_config, make_events


def _request(*sizes: int) -> tuple[BulkRequest, list[AckToken]]:
    tokens = [AckToken(i, None) for i in range(len(sizes))]
    batches = [Batch.from_events(make_events(n, f"b{i}"), tokens[i]) for i, n in enumerate(sizes)]
    return BulkRequest.build(batches, BulkEncoder(make_config("http://h:1"))), tokens


class TestBulkRequest:
    def test_batch_settles_when_its_last_item_is_final(self) -> None:
        """A batch's token settles only when all its items are final, not before."""
        req, (t0, t1) = _request(2, 1)
        req.finish_delivered([0])
        assert not t0.settled
        req.finish_delivered([2])
        assert t1.settled and t1.status == AckStatus.DELIVERED and not t0.settled
        req.finish(1, AckStatus.DELIVERED)
        assert t0.settled and req.done

    def test_one_rejected_item_makes_the_batch_rejected(self) -> None:
        """A batch with any dead-lettered item settles REJECTED."""
        req, (t0,) = _request(3)
        req.finish(1, AckStatus.REJECTED)
        req.finish_delivered([0, 2])
        assert t0.status == AckStatus.REJECTED and req.dead_lettered == 1 and req.delivered == 2

    def test_abandon_settles_open_batches_errored(self) -> None:
        """abandon() settles every unfinished batch ERRORED and leaves finished ones alone."""
        req, (t0, t1) = _request(1, 2)
        req.finish_delivered([0])
        assert req.abandon() == 2
        assert t0.status == AckStatus.DELIVERED and t1.status == AckStatus.ERRORED and t1.settled

    def test_empty_batch_settles_at_once(self) -> None:
        """A batch without events is delivered as soon as the request is built."""
        req, (t0, t1) = _request(0, 1)
        assert t0.settled and not t1.settled
        assert req.body().count(b"\n") == 2
