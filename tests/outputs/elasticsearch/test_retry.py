"""classify_bulk_items and classify_request_status on canned Elasticsearch answers."""

from __future__ import annotations

from logferry.outputs.elasticsearch.retry import (
    RequestVerdict,
    classify_bulk_items,
    classify_request_status,
)


def _item(status: int, op: str = "create", err: str | None = None) -> dict:
    body: dict = {"_index": "i", "status": status}
    if err:
        body["error"] = {"type": err, "reason": f"{err} happened", "caused_by": {"reason": "deeper"}}
    return {op: body}


class TestClassifyBulkItems:
    def test_all_ok_short_cut(self) -> None:
        """errors=false delivers every sent item without looking at each."""
        out = classify_bulk_items({"errors": False, "items": [_item(201), _item(201)]}, [4, 9])
        assert out is not None and out.delivered == [4, 9]

    def test_mixed_statuses(self) -> None:
        """2xx deliver, 409 on create is a duplicate, 429/5xx retry, other 4xx reject with type and reason."""
        items = [_item(201), _item(409, err="version_conflict_engine_exception"), _item(429, err="rej"),
                 _item(503, err="unavail"), _item(400, err="document_parsing_exception"), _item(404, err="nf")]
        out = classify_bulk_items({"errors": True, "items": items}, [0, 1, 2, 3, 4, 5])
        assert out is not None
        assert (out.delivered, out.duplicates, out.retry) == ([0], [1], [2, 3])
        assert [(r.item, r.status, r.error_type) for r in out.rejected] == [
            (4, 400, "document_parsing_exception"), (5, 404, "nf")]
        assert out.rejected[0].reason == "document_parsing_exception happened: deeper"
        assert out.retry_statuses == {429: 1, 503: 1}

    def test_409_on_index_is_not_delivered(self) -> None:
        """A 409 for an `index` op is a real conflict, not a replay, so it is rejected."""
        out = classify_bulk_items({"errors": True, "items": [_item(409, op="index", err="c")]}, [0])
        assert out is not None and out.duplicates == [] and out.rejected[0].status == 409

    def test_mismatched_answer(self) -> None:
        """An answer with a different number of items than sent, or no items, gives None."""
        assert classify_bulk_items({"errors": False, "items": [_item(201)]}, [0, 1]) is None
        assert classify_bulk_items({"took": 1}, [0]) is None
        assert classify_bulk_items("nope", [0]) is None


class TestClassifyRequestStatus:
    def test_verdicts(self) -> None:
        """No answer, 429, 5xx and auth problems retry; 413 splits; other 4xx reject."""
        assert [classify_request_status(s) for s in (None, 429, 500, 503, 401, 403, 404)] == [RequestVerdict.RETRY] * 7
        assert classify_request_status(413) == RequestVerdict.SPLIT
        assert classify_request_status(400) == RequestVerdict.REJECT
