"""The `elasticsearch` output: batches -> bulk requests -> per-item outcome -> acks, DLQ and metrics.

``run`` gathers input batches into requests (``delivery.batcher``), encodes each request once, and
hands it to a delivery task. A delivery task sends whatever items are still open, under the adaptive
concurrency limit, until every item is final: delivered (2xx, or 409 on ``create``) or written to the
dead-letter queue (4xx). Items answered 429/5xx and whole-request failures are retried with capped,
fully jittered exponential back-off for as long as it takes; the number of requests held at once is
bounded, so a slow cluster pushes back on the inbox instead of filling memory.
"""

from __future__ import annotations

import asyncio
import logging

from logferry.agent.acks import AckStatus
from logferry.agent.component import BuildContext, Health, Output, OutputContext
from logferry.agent.event import Batch
from logferry.agent.telemetry import ComponentMetrics, counter, gauge, histogram
from logferry.outputs.delivery.batcher import gather_requests
from logferry.outputs.delivery.retry import Backoff
from logferry.outputs.elasticsearch.concurrency import (
    ConcurrencyController,
    ConcurrencyLimiter,
)
from logferry.outputs.elasticsearch.config import ElasticsearchOutputConfig
from logferry.outputs.elasticsearch.dlq import DeadLetterQueue, make_record
from logferry.outputs.elasticsearch.encoder import BulkEncoder
from logferry.outputs.elasticsearch.health import check_cluster
from logferry.outputs.elasticsearch.request import BulkRequest
from logferry.outputs.elasticsearch.retry import (
    ItemRejection,
    RequestVerdict,
    classify_bulk_items,
    classify_request_status,
)
from logferry.outputs.elasticsearch.service import (
    Answer,
    ElasticsearchService,
    build_client,
)

log = logging.getLogger("logferry.outputs.elasticsearch")

_LABELS = ("component_id",)
_LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0)


class _EsMetrics:
    def __init__(self, component_id: str) -> None:
        c = component_id
        self.sent = counter("logferry_elasticsearch_documents_sent_total",
                            "Documents Elasticsearch accepted (including 409 duplicates on create).", _LABELS).labels(c)
        self.duplicates = counter("logferry_elasticsearch_documents_duplicate_total",
                                  "Documents answered 409 on create: already indexed by an earlier attempt.",
                                  _LABELS).labels(c)
        self.failed = counter("logferry_elasticsearch_documents_failed_total",
                              "Document send attempts that failed and will be retried (429/5xx, request errors).",
                              _LABELS).labels(c)
        self.dead_lettered = counter("logferry_elasticsearch_documents_dead_lettered_total",
                                     "Documents refused by Elasticsearch (4xx) and written to the dead-letter queue.",
                                     _LABELS).labels(c)
        self.latency = histogram("logferry_elasticsearch_bulk_latency_seconds", "Round-trip time of _bulk requests.",
                                 _LABELS, _LATENCY_BUCKETS).labels(c)
        self.in_flight = gauge("logferry_elasticsearch_requests_in_flight", "_bulk requests in flight.",
                               _LABELS).labels(c)
        self.concurrency = gauge("logferry_elasticsearch_concurrency_limit",
                                 "Current adaptive concurrency limit.", _LABELS).labels(c)


def _size_estimate(batch: Batch) -> int:
    # Messages dominate; 160 bytes covers the action line and the usual ECS fields.
    return sum(map(len, batch.messages())) + 160 * len(batch)


class ElasticsearchOutput(Output):
    def __init__(self, cfg: ElasticsearchOutputConfig, ctx: BuildContext) -> None:
        self.cfg = cfg
        self.component_id = ctx.component_id
        self.metrics: ComponentMetrics = ctx.metrics
        self.encoder = BulkEncoder(cfg)
        self.service = ElasticsearchService(build_client(cfg), gzip=cfg.compression == "gzip")
        self.limiter = ConcurrencyLimiter(ConcurrencyController(cfg.request.concurrency,
                                                                adaptive=cfg.adaptive_concurrency))
        self.dlq = DeadLetterQueue(ctx.data_dir / "dlq", cfg.dead_letter.max_segment_bytes) \
            if cfg.dead_letter.enabled else None
        self.es_metrics = _EsMetrics(ctx.component_id)
        self.es_metrics.concurrency.set(self.limiter.controller.limit)
        self.health = Health()
        # Requests held at once (sending or waiting to retry): bounds memory, pushes back on the inbox.
        self._held = asyncio.Semaphore(cfg.request.concurrency * 2)
        self._failing = False

    async def healthcheck(self) -> None:
        if self.cfg.healthcheck:
            await check_cluster(self.service, self.cfg)

    async def run(self, ctx: OutputContext) -> None:
        self.health = ctx.health
        self.metrics = ctx.metrics
        try:
            async with asyncio.TaskGroup() as tg:
                async for batches in gather_requests(ctx.inbox, self.cfg.batch, _size_estimate):
                    request = BulkRequest.build(batches, self.encoder)
                    try:
                        await self._held.acquire()
                    except asyncio.CancelledError:
                        request.abandon()
                        raise
                    tg.create_task(self._deliver(request))
        finally:
            await self.service.close()

    async def close(self) -> None:
        await self.service.close()

    # -- one request, until every item is final ------------------------------------------
    async def _deliver(self, req: BulkRequest) -> None:
        try:
            await self._deliver_items(req)
        except asyncio.CancelledError:
            left = req.abandon()
            if left:
                log.error("Shutdown abandoned documents before Elasticsearch confirmed them; they will be read "
                          "again after a restart.", extra={"component_id": self.component_id, "documents": left})
            raise
        except Exception:
            left = req.abandon()
            self.metrics.error("delivery_failed", "sending")
            log.exception("Unexpected error while delivering to Elasticsearch; the documents will be read again "
                          "after a restart.", extra={"component_id": self.component_id, "documents": left})
        finally:
            self._held.release()

    async def _deliver_items(self, req: BulkRequest) -> None:
        cfg = self.cfg.request
        backoff = Backoff(cfg.retry_initial_backoff_secs, cfg.retry_max_backoff_secs)
        if req.encode_failures:
            await self._reject(req, [ItemRejection(i, 0, "encode_error", req.items[i].reason)  # type: ignore[union-attr]
                                     for i in req.encode_failures])
        cap = len(req.pending)  # lowered when the cluster answers 413
        while req.pending:
            sent = req.pending[:cap]
            answer = await self._send(req.body(sent))
            if answer.status is not None and 200 <= answer.status < 300:
                outcome = classify_bulk_items(answer.body, sent)
                if outcome is None:
                    self._note_failure("Elasticsearch answered _bulk with items that do not match the request.",
                                       answer, len(sent))
                    await asyncio.sleep(backoff.next_delay())
                    continue
                self._recovered()
                accepted = outcome.delivered + outcome.duplicates  # a 409 on create: indexed by an earlier attempt
                req.finish_delivered(accepted)
                done = len(accepted)
                if done:
                    self.es_metrics.sent.inc(done)
                    self.metrics.sent(done)
                if outcome.duplicates:
                    self.es_metrics.duplicates.inc(len(outcome.duplicates))
                if outcome.rejected:
                    await self._reject(req, outcome.rejected)
                req.pending = outcome.retry + req.pending[len(sent):]
                if outcome.retry:
                    self.es_metrics.failed.inc(len(outcome.retry))
                    log.debug("Elasticsearch asked to retry documents.",
                              extra={"component_id": self.component_id, "documents": len(outcome.retry),
                                     "statuses": {str(k): v for k, v in outcome.retry_statuses.items()}})
                    await asyncio.sleep(backoff.next_delay())
                else:
                    backoff.reset()
                continue
            verdict = classify_request_status(answer.status)
            if verdict == RequestVerdict.SPLIT and len(sent) > 1:
                cap = max(1, len(sent) // 2)
                continue
            if verdict == RequestVerdict.RETRY:
                self._note_failure("Elasticsearch request failed; retrying.", answer, len(sent))
                await asyncio.sleep(backoff.next_delay())
                continue
            # The cluster refused the body itself (or one document too large for any request).
            err_type, _, reason = answer.error.partition(": ")
            await self._reject(req, [ItemRejection(i, answer.status or 0, err_type or "request_rejected",
                                                   reason or answer.error) for i in sent])
            req.pending = req.pending[len(sent):]

    async def _send(self, body: bytes) -> Answer:
        """One _bulk attempt under the concurrency limit; back-pressure (429, 5xx, no answer) feeds the limit."""
        m = self.es_metrics
        started = await self.limiter.acquire()
        m.in_flight.inc()
        back_pressure = True
        try:
            answer = await self.service.bulk(body)
            back_pressure = answer.status is None or answer.status == 429 or answer.status >= 500 \
                or _has_item_429(answer)
            return answer
        finally:
            m.in_flight.dec()
            rtt = self.limiter.release(started, back_pressure)
            m.latency.observe(rtt)
            m.concurrency.set(self.limiter.controller.limit)
            self.metrics.sent(0, len(body))

    async def _reject(self, req: BulkRequest, rejected: list[ItemRejection]) -> None:
        """Write refused items to the DLQ (durably), then settle them as REJECTED."""
        if not rejected:
            return
        if self.dlq is not None:
            records = [make_record(req.events[r.item], req.index_of(r.item), r.status, r.error_type, r.reason)
                       for r in rejected]
            while True:
                try:
                    await self.dlq.write(records)
                    break
                except OSError as e:
                    # A full disk must not turn into silent loss: wait and try again.
                    self.metrics.error("dlq_write_failed", "sending")
                    log.error("Cannot write the dead-letter queue; retrying.",
                              extra={"component_id": self.component_id, "error": str(e)})
                    await asyncio.sleep(5)
            self.es_metrics.dead_lettered.inc(len(rejected))
        else:
            self.metrics.dropped(len(rejected), "elasticsearch_rejected", intentional=False)
        first = rejected[0]
        log.warning("Elasticsearch refused documents; they are in the dead-letter queue." if self.dlq is not None
                    else "Elasticsearch refused documents; dead-letter queue is off, so they are dropped.",
                    extra={"component_id": self.component_id, "documents": len(rejected), "status": first.status,
                           "error_type": first.error_type, "reason": first.reason[:300]})
        for r in rejected:
            req.finish(r.item, AckStatus.REJECTED)

    def _note_failure(self, message: str, answer: Answer, documents: int) -> None:
        self.es_metrics.failed.inc(documents)
        self.metrics.error("request_failed" if answer.status else "connection_failed", "sending")
        reason = answer.error or f"HTTP {answer.status}"
        if answer.status is None or answer.status in (401, 403) or answer.status >= 500:
            self.health.fail(f"Elasticsearch unreachable, unavailable or refusing us: {reason}")
        if not self._failing:
            self._failing = True
            log.warning(message, extra={"component_id": self.component_id, "status": answer.status,
                                        "reason": reason[:300], "documents": documents})

    def _recovered(self) -> None:
        if self._failing:
            self._failing = False
            log.info("Elasticsearch is taking documents again.", extra={"component_id": self.component_id})
        if not self.health.healthy:
            self.health.ok()


def _has_item_429(answer: Answer) -> bool:
    body = answer.body
    if not isinstance(body, dict) or not body.get("errors"):
        return False
    return any(isinstance(r, dict) and r.get("status") == 429 for e in body.get("items", ()) if isinstance(e, dict)
               for r in e.values())
