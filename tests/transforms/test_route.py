"""The route transform: named outputs by condition plus the remainder."""

from __future__ import annotations

import msgspec
import pytest

from logferry.agent.acks import OrderedAcks
from logferry.agent.event import Batch
from logferry.transforms.route import RouteConfig
from tests.transforms.util import build, decode

ROUTES = {"type": "route", "routes": {"errors": 'log.level == "ERROR"', "oom": 'tags == "cuda_oom"'}}


class TestRouteConfig:
    def test_output_names_include_unmatched(self) -> None:
        """Consumers may read every route and `_unmatched`."""
        assert decode(RouteConfig, ROUTES).output_names() == ("errors", "oom", "_unmatched")

    def test_reserved_or_dotted_names_are_rejected(self) -> None:
        """A route name with a dot or the reserved `_unmatched` is a config error."""
        for name in ("a.b", "_unmatched"):
            with pytest.raises(msgspec.ValidationError, match="route name"):
                decode(RouteConfig, {"type": "route", "routes": {name: "true"}})

    def test_bad_condition_names_the_route(self) -> None:
        """A condition error says which route it belongs to."""
        with pytest.raises(msgspec.ValidationError, match="route 'bad': condition"):
            decode(RouteConfig, {"type": "route", "routes": {"bad": "x =="}})


class TestRoute:
    def test_events_split_by_route_with_copies_for_multiple_matches(self) -> None:
        """An event matching two routes goes to both as independent dicts; unmatched ones go to `_unmatched`."""
        t = build(decode(RouteConfig, ROUTES))
        both = {"log.level": "ERROR", "tags": ["cuda_oom"]}
        out = dict(t.route(Batch.from_events([both, {"log.level": "INFO"}, {"log.level": "ERROR"}])))
        assert set(out) == {"errors", "oom", "_unmatched"}
        assert out["errors"].events == [both, {"log.level": "ERROR"}]
        assert out["oom"].events == [both] and out["oom"].events[0] is not both
        out["oom"].events[0]["tags"].append("x")
        assert both["tags"] == ["cuda_oom"]
        assert out["_unmatched"].events == [{"log.level": "INFO"}]

    def test_sub_batches_share_the_token_and_empty_routes_are_left_out(self) -> None:
        """Every non-empty sub-batch carries the source token untouched; empty routes yield no batch."""
        advanced: list[object] = []
        token = OrderedAcks(advanced.append).open(7)
        t = build(decode(RouteConfig, ROUTES))
        out = t.route(Batch.from_events([{"log.level": "ERROR"}, {}], ack=token))
        assert [name for name, _ in out] == ["errors", "_unmatched"]
        assert all(b.ack is token for _, b in out)
        token.settle()  # the runner holds one reference per sub-batch; route itself took none
        assert advanced == [7]

    def test_empty_batch_gives_nothing(self) -> None:
        """An empty batch produces no sub-batches."""
        t = build(decode(RouteConfig, ROUTES))
        assert t.route(Batch.from_events([])) == []
