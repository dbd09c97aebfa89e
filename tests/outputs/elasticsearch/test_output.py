"""The elasticsearch output driven through run(ctx) against the es_wire server (Elasticsearch 8 and 9)."""

from __future__ import annotations

from pathlib import Path

import msgspec
import pytest
from logferry.agent.acks import AckStatus
from logferry.agent.errors import HealthcheckError
from logferry.outputs.elasticsearch.dlq import DeadLetterQueue

from tests.outputs.elasticsearch.helpers import (
    Run,
    build_output,
    drive,
    make_config,
    make_events,
)
from tests.servers.es_wire import EsWireServer


class TestDelivery:
    async def test_data_stream_documents_arrive_with_fields(self, es_any: EsWireServer, tmp_path: Path) -> None:
        """Every event becomes one document in logs-generic-default with data_stream.* set and _id = event.id."""
        run = await drive(make_config(es_any.url), tmp_path, [make_events(150, "a"), make_events(70, "b")])
        assert es_any.state.count("logs-generic-default") == 220
        assert run.statuses == [AckStatus.DELIVERED, AckStatus.DELIVERED]
        assert run.advanced[-1] == 1
        _, hits = es_any.state.search("logs-generic-default", {"query": {"ids": {"values": ["a-7"]}}})
        (index, doc_id, doc), = hits
        assert index.startswith(".ds-logs-generic-default-") and doc_id == "a-7"
        assert doc["data_stream.type"] == "logs" and doc["data_stream.dataset"] == "generic"
        assert doc["message"] == "a line 7"

    async def test_speaks_the_servers_rest_version(self, es_any: EsWireServer, tmp_path: Path) -> None:
        """After the health check the output sends compatible-with=<server major>, which that server accepts."""
        await drive(make_config(es_any.url), tmp_path, [make_events(5)])
        major = es_any.state.version.split(".")[0]
        assert major in es_any.state.stats.compat_seen
        assert es_any.state.count("logs-*") == 5

    async def test_replay_counts_409_as_delivered(self, es: EsWireServer, tmp_path: Path) -> None:
        """Sending the same events twice stores them once and still settles the second run as delivered."""
        cfg = make_config(es.url)
        await drive(cfg, tmp_path, [make_events(50)])
        run = await drive(cfg, tmp_path, [make_events(50)])
        assert es.state.count("logs-*") == 50
        assert es.state.stats.statuses[409] == 50
        assert run.statuses == [AckStatus.DELIVERED]

    async def test_auto_ids_let_elasticsearch_assign(self, es: EsWireServer, tmp_path: Path) -> None:
        """With id_mode auto, a second send of the same events makes new documents (ES assigned ids)."""
        cfg = make_config(es.url, id_mode="auto")
        await drive(cfg, tmp_path, [make_events(10)])
        await drive(cfg, tmp_path, [make_events(10)])
        assert es.state.count("logs-*") == 20
        assert all(not d.startswith("e-") for _, d, _ in es.state.search("logs-*", {})[1])

    async def test_index_mode_renders_time_and_fields(self, es: EsWireServer, tmp_path: Path) -> None:
        """Index mode names indices from @timestamp (strftime) and event fields, lowercased."""
        cfg = make_config(es.url, mode="index", index="app-{service.name}-%Y.%m.%d")
        events = make_events(3, "x", **{"service.name": "Trainer"}) + make_events(2, "y")
        await drive(cfg, tmp_path, [events])
        assert es.state.count("app-trainer-2026.05.01") == 3
        assert es.state.count("app-unknown-2026.05.01") == 2

    async def test_gzip_bodies_are_sent(self, es: EsWireServer, tmp_path: Path) -> None:
        """Bulk bodies above the size threshold go out gzip-encoded and still decode on the server."""
        await drive(make_config(es.url), tmp_path, [make_events(100)])
        assert es.state.stats.gzip_requests >= 1
        assert es.state.count() == 100

    async def test_events_are_not_changed(self, es: EsWireServer, tmp_path: Path) -> None:
        """The output never adds fields to the event dicts it shares with other outputs."""
        events = make_events(3)
        before = msgspec.json.encode(events)
        await drive(make_config(es.url), tmp_path, [events])
        assert msgspec.json.encode(events) == before

    async def test_basic_auth_from_env(self, es: EsWireServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
        """Basic auth reads the password from the named env variable and the server accepts the header."""
        monkeypatch.setenv("ES_TEST_PASSWORD", "fake-password")
        es.state.required_auth = {"Basic bG9nZmVycnk6ZmFrZS1wYXNzd29yZA=="}  # logferry:fake-password
        cfg = make_config(es.url, auth={"strategy": "basic", "user": "logferry",
                                        "password": {"env": "ES_TEST_PASSWORD"}})
        await drive(cfg, tmp_path, [make_events(4)])
        assert es.state.count() == 4

    async def test_api_key_from_file(self, es: EsWireServer, tmp_path: Path) -> None:
        """API key auth reads the key from a file and sends `Authorization: ApiKey <key>`."""
        key = tmp_path / "key"
        key.write_text("ZmFrZTpmYWtl\n")
        es.state.required_auth = {"ApiKey ZmFrZTpmYWtl"}
        cfg = make_config(es.url, auth={"strategy": "api_key", "api_key": {"file": str(key)}})
        await drive(cfg, tmp_path, [make_events(2)])
        assert es.state.count() == 2


class TestPerItemFailures:
    async def test_item_429s_are_retried_until_delivered(self, es_any: EsWireServer, tmp_path: Path) -> None:
        """Items answered 429 are re-sent alone until every document is in, without duplicates."""
        es_any.faults.item_429 = 120
        es_any.faults.item_429_every = 7
        run = await drive(make_config(es_any.url), tmp_path, [make_events(100, "a"), make_events(100, "b")])
        assert es_any.state.count() == 200
        assert es_any.state.stats.statuses[429] >= 120
        assert run.statuses == [AckStatus.DELIVERED, AckStatus.DELIVERED]

    async def test_items_400_go_to_the_dlq(self, es: EsWireServer, tmp_path: Path) -> None:
        """Items refused with 400 are written to the DLQ with index, status and reason; their batch is REJECTED."""
        es.faults.item_400_when = lambda doc: doc["message"].endswith("3")
        run = await drive(make_config(es.url), tmp_path, [make_events(20, "a"), make_events(2, "b", start=4)])
        records = list(DeadLetterQueue(tmp_path / "dlq").read())
        assert sorted(r["event"]["event.id"] for r in records) == ["a-13", "a-3"]
        assert {r["status"] for r in records} == {400}
        assert records[0]["index"] == "logs-generic-default"
        assert records[0]["error"]["type"] == "document_parsing_exception"
        assert es.state.count() == 20
        assert run.statuses == [AckStatus.REJECTED, AckStatus.DELIVERED]
        assert run.advanced[-1] == 1

    async def test_real_mapping_conflicts_are_dead_lettered(self, es: EsWireServer, tmp_path: Path) -> None:
        """A field that is a number in one document and an object in another is refused for the later one only."""
        events = [{"@timestamp": "2026-05-01T00:00:00Z", "event.id": "m1", "ml.step": 5},
                  {"@timestamp": "2026-05-01T00:00:00Z", "event.id": "m2", "ml.step": {"x": 1}}]
        run = await drive(make_config(es.url), tmp_path, [events])
        (rec,) = DeadLetterQueue(tmp_path / "dlq").read()
        assert rec["event"]["event.id"] == "m2"
        assert run.statuses == [AckStatus.REJECTED]

    async def test_dlq_off_counts_and_drops(self, es: EsWireServer, tmp_path: Path) -> None:
        """With the dead-letter queue off, refused items settle REJECTED and no DLQ file is written."""
        es.faults.item_400_when = lambda doc: True
        run = await drive(make_config(es.url, dead_letter={"enabled": False}), tmp_path, [make_events(3)])
        assert run.statuses == [AckStatus.REJECTED]
        assert not (tmp_path / "dlq").exists()


class TestRequestFailures:
    async def test_whole_request_429_and_503_retry_the_batch(self, es_any: EsWireServer, tmp_path: Path) -> None:
        """Whole-request 429 and 503 answers are retried and every document arrives once."""
        es_any.faults.request_statuses = [429, 503, 429]
        run = await drive(make_config(es_any.url), tmp_path, [make_events(30)])
        assert es_any.state.count() == 30
        assert es_any.state.stats.bulk_requests >= 4
        assert run.statuses == [AckStatus.DELIVERED]

    async def test_connection_dropped_before_storing(self, es: EsWireServer, tmp_path: Path) -> None:
        """A connection dropped mid-request is retried; all documents arrive."""
        es.faults.drop_before = 2
        await drive(make_config(es.url), tmp_path, [make_events(25)])
        assert es.state.count() == 25

    async def test_connection_dropped_after_storing_gives_no_duplicates(self, es: EsWireServer, tmp_path: Path) -> None:
        """When the answer is lost after ES stored the documents, the retry gets 409s: stored once, delivered."""
        es.faults.drop_after = 1
        run = await drive(make_config(es.url), tmp_path, [make_events(25)])
        assert es.state.count() == 25
        assert es.state.stats.statuses[409] == 25
        assert run.statuses == [AckStatus.DELIVERED]

    async def test_slow_answers_past_the_timeout_are_retried(self, es: EsWireServer, tmp_path: Path) -> None:
        """A request that times out is retried, and its late success shows up as 409s, not duplicates."""
        es.faults.delay_secs = 0.4
        cfg = make_config(es.url, request={"timeout_secs": 0.2})

        async def speed_up(run: Run) -> None:
            import asyncio
            await asyncio.sleep(0.5)
            es.faults.delay_secs = 0.0

        await drive(cfg, tmp_path, [make_events(10)], during=speed_up)
        assert es.state.count() == 10

    async def test_failover_to_the_second_endpoint(self, es: EsWireServer, tmp_path: Path) -> None:
        """With the first endpoint refusing connections, documents go to the second."""
        cfg = make_config(["http://127.0.0.1:9", es.url], healthcheck=False)
        run = await drive(cfg, tmp_path, [make_events(12)], healthcheck=False)
        assert es.state.count() == 12
        assert run.statuses == [AckStatus.DELIVERED]

    async def test_health_fails_while_unreachable_and_recovers(self, tmp_path: Path) -> None:
        """The output reports unhealthy while the cluster is down and healthy once it takes documents again."""
        import asyncio
        import socket

        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            port = s.getsockname()[1]
        server = EsWireServer("8.15.3", port=port)
        seen: list[bool] = []

        async def start_later(run: Run) -> None:
            await asyncio.sleep(0.3)
            seen.append(run.health.healthy)
            server.start()

        try:
            run = await drive(make_config(server.url), tmp_path, [make_events(5)], healthcheck=False,
                              during=start_later)
            assert seen == [False]
            assert run.health.healthy
            assert server.state.count() == 5
        finally:
            server.stop()


class TestHealthcheck:
    async def test_unreachable_cluster_has_a_clear_error(self, tmp_path: Path) -> None:
        """A health check against a closed port names the endpoint and says it is unreachable."""
        output = build_output(make_config("http://127.0.0.1:9"), tmp_path)
        with pytest.raises(HealthcheckError, match=r"^Elasticsearch at http://127.0.0.1:9 is unreachable"):
            await output.healthcheck()
        await output.close()

    async def test_old_version_is_refused(self, tmp_path: Path) -> None:
        """A 7.x cluster fails the health check with the version in the message."""
        server = EsWireServer("7.17.0").start()
        try:
            output = build_output(make_config(server.url), tmp_path)
            with pytest.raises(HealthcheckError, match=r"is version 7.17.0; logferry needs 8.0 or newer"):
                await output.healthcheck()
            await output.close()
        finally:
            server.stop()

    async def test_missing_write_privilege_is_reported(self, es: EsWireServer, tmp_path: Path) -> None:
        """A user without create_doc on the target fails the check naming the target and privilege."""
        es.state.allowed_privileges = False
        output = build_output(make_config(es.url), tmp_path)
        with pytest.raises(HealthcheckError, match=r"may not write to `logs-generic-default` \(missing index "
                                                   r"privileges: auto_configure, create_doc\)"):
            await output.healthcheck()
        await output.close()


class TestSplitAndMetrics:
    async def test_413_splits_the_request(self, es: EsWireServer, tmp_path: Path) -> None:
        """A 413 answer halves the request until it fits; every document still arrives once."""
        es.faults.request_statuses = [413, 413]
        await drive(make_config(es.url), tmp_path, [make_events(40)])
        assert es.state.count() == 40
        assert es.state.stats.bulk_requests >= 4

    async def test_metrics_count_sent_failed_and_dead_lettered(self, es: EsWireServer, tmp_path: Path) -> None:
        """Sent, retried-failed and dead-lettered counters and the latency histogram move with the run."""
        from logferry.agent.telemetry import REGISTRY

        def value(name: str) -> float:
            return REGISTRY.get_sample_value(name, {"component_id": "es"}) or 0.0

        before = {n: value(n) for n in ("logferry_elasticsearch_documents_sent_total",
                                         "logferry_elasticsearch_documents_failed_total",
                                         "logferry_elasticsearch_documents_dead_lettered_total",
                                         "logferry_elasticsearch_bulk_latency_seconds_count")}
        es.faults.item_429 = 5
        es.faults.item_400_when = lambda doc: doc["message"] == "e line 0"
        await drive(make_config(es.url), tmp_path, [make_events(20)])
        delta = {n: value(n) - v for n, v in before.items()}
        assert delta["logferry_elasticsearch_documents_sent_total"] == 19
        assert delta["logferry_elasticsearch_documents_failed_total"] == 5
        assert delta["logferry_elasticsearch_documents_dead_lettered_total"] == 1
        assert delta["logferry_elasticsearch_bulk_latency_seconds_count"] >= 2
        assert value("logferry_elasticsearch_requests_in_flight") == 0
        assert value("logferry_elasticsearch_concurrency_limit") >= 1


class TestConcurrency:
    async def test_concurrency_grows_but_stays_under_the_maximum(self, es: EsWireServer, tmp_path: Path) -> None:
        """With steady slow answers several requests go out at once, never more than request.concurrency."""
        es.faults.delay_secs = 0.03
        cfg = make_config(es.url, request={"concurrency": 3}, batch={"max_events": 50})
        await drive(cfg, tmp_path, [make_events(50, f"b{i}") for i in range(30)])
        assert es.state.count() == 1500
        assert 2 <= es.state.stats.max_in_flight <= 3


class TestShutdown:
    async def test_cancel_abandons_unconfirmed_batches_as_errored(self, es: EsWireServer, tmp_path: Path) -> None:
        """When shutdown cancels run() while the cluster answers 503, the open batch settles ERRORED, never DELIVERED."""
        import asyncio

        from logferry.agent.acks import OrderedAcks
        from logferry.agent.component import Health, OutputContext
        from logferry.agent.event import Batch
        from logferry.agent.topology.channel import Channel

        es.faults.request_statuses = [503] * 100_000
        output = build_output(make_config(es.url), tmp_path)
        inbox = Channel(10_000)
        advanced: list[int] = []
        acks = OrderedAcks(advanced.append)
        token = acks.open(0)
        health = Health()
        task = asyncio.ensure_future(output.run(OutputContext("es", inbox, tmp_path, output.metrics, health)))
        await inbox.send(Batch.from_events(make_events(5), token))
        while es.state.stats.bulk_requests < 3:
            await asyncio.sleep(0.01)
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        assert token.settled and token.status == AckStatus.ERRORED
        assert advanced == [] and acks.blocked
        assert not health.healthy
