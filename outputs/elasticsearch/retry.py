"""What to do with a bulk answer, per item and per request. Pure.

Per item (the ``items`` array of a ``_bulk`` answer, in request order):

* 2xx -> delivered; 409 on ``create`` -> delivered too (the id exists: a replay after a crash);
* 429 and 5xx -> retry that item alone;
* any other 4xx (mapping, parse, invalid index) -> reject into the dead-letter queue.

Per request (no item answers): connection errors, timeouts, 429, 5xx, and 401/403/404 (an operator
can fix credentials or a missing template while data waits) -> retry the request; 413 -> split it;
other 4xx -> the body itself is refused, so its items are rejected.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from typing import Any


class RequestVerdict(enum.Enum):
    RETRY = "retry"
    SPLIT = "split"
    REJECT = "reject"


@dataclass
class ItemRejection:
    item: int
    status: int
    error_type: str
    reason: str


@dataclass
class BulkOutcome:
    """Item indices (as the request numbers them) by verdict."""

    delivered: list[int] = field(default_factory=list)
    duplicates: list[int] = field(default_factory=list)
    retry: list[int] = field(default_factory=list)
    rejected: list[ItemRejection] = field(default_factory=list)
    retry_statuses: dict[int, int] = field(default_factory=dict)


def classify_request_status(status: int | None) -> RequestVerdict:
    """``None`` means no answer at all (refused, reset, timed out)."""
    if status is None or status == 429 or status >= 500 or status in (401, 403, 404, 408):
        return RequestVerdict.RETRY
    if status == 413:
        return RequestVerdict.SPLIT
    return RequestVerdict.REJECT


def _error_of(result: dict[str, Any]) -> tuple[str, str]:
    err = result.get("error")
    if isinstance(err, dict):
        reason = str(err.get("reason", ""))
        cause = err.get("caused_by")
        if isinstance(cause, dict) and cause.get("reason"):
            reason = f"{reason}: {cause.get('reason')}"
        return str(err.get("type", "unknown")), reason
    return "unknown", str(err) if err is not None else ""


def classify_bulk_items(body: Any, sent: list[int]) -> BulkOutcome | None:
    """Sort the items of a ``_bulk`` answer; ``None`` when the answer does not match what was sent."""
    if not isinstance(body, dict):
        return None
    items = body.get("items")
    if not isinstance(items, list) or len(items) != len(sent):
        return None
    out = BulkOutcome()
    if body.get("errors") is False:
        out.delivered = list(sent)
        return out
    for i, entry in zip(sent, items):
        if not isinstance(entry, dict) or len(entry) != 1:
            return None
        (op, result), = entry.items()
        status = result.get("status") if isinstance(result, dict) else None
        if not isinstance(status, int):
            return None
        if 200 <= status < 300:
            out.delivered.append(i)
        elif status == 409 and op == "create":
            out.duplicates.append(i)
        elif status == 429 or status >= 500:
            out.retry.append(i)
            out.retry_statuses[status] = out.retry_statuses.get(status, 0) + 1
        else:
            kind, reason = _error_of(result)
            out.rejected.append(ItemRejection(i, status, kind, reason))
    return out
