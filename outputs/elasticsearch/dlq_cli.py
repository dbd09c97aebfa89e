"""`logferry dlq list|replay|purge -c FILE [--output ID]`: inspect and re-send dead-lettered documents.

``replay`` claims the DLQ segments, sends their events through the same output code the agent uses
(same ids, so documents that made it in the meantime answer 409 and count as delivered), writes the
ones Elasticsearch refuses again into a new segment (by the output itself), and deletes the claimed
segments. Events whose fate stayed unknown (cluster unreachable until ``--timeout-secs``) are written
back, so a replay never loses a record.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
from collections import Counter
from typing import Any

import msgspec
from logferry.agent.acks import AckStatus, AckToken
from logferry.agent.component import BuildContext, Health, OutputContext
from logferry.agent.errors import EX_CONFIG, BuildError, HealthcheckError
from logferry.agent.event import Batch
from logferry.agent.telemetry import ComponentMetrics
from logferry.agent.topology.channel import Channel
from logferry.outputs.elasticsearch.cli_config import (
    CliError,
    EsOutputRef,
    es_outputs,
    fail,
)
from logferry.outputs.elasticsearch.dlq import DeadLetterQueue
from logferry.outputs.elasticsearch.output import ElasticsearchOutput

_REPLAY_BATCH = 500


def _dlq(ref: EsOutputRef) -> DeadLetterQueue:
    return DeadLetterQueue(ref.data_dir / "dlq", ref.config.dead_letter.max_segment_bytes)


def _preview(event: Any) -> str:
    if isinstance(event, dict):
        msg = event.get("message", "")
        return str(msg)[:80].replace("\n", " ")
    return ""


def cmd_list(refs: list[EsOutputRef], as_json: bool, limit: int | None) -> int:
    enc = msgspec.json.Encoder()
    for ref in refs:
        q = _dlq(ref)
        reasons: Counter[str] = Counter()
        n = 0
        for rec in q.read():
            n += 1
            err = rec.get("error") or {}
            reasons[f"{rec.get('status')} {err.get('type', '')}"] += 1
            if limit is not None and n > limit:
                continue
            if as_json:
                sys.stdout.write(enc.encode(rec).decode() + "\n")
            else:
                event = rec.get("event") or {}
                eid = event.get("event.id", "-") if isinstance(event, dict) else "-"
                print(f"{rec.get('time')}  {rec.get('index')}  {rec.get('status')}  {err.get('type', '')}: "
                      f"{str(err.get('reason', ''))[:120]}  id={eid}  {_preview(event)!r}")
        if not as_json:
            summary = ", ".join(f"{k}: {v}" for k, v in reasons.most_common()) or "empty"
            print(f"{ref.component_id}: {n} dead-lettered documents in {len(q.all_segments())} segments ({summary})")
    return 0


def cmd_purge(refs: list[EsOutputRef]) -> int:
    for ref in refs:
        n = _dlq(ref).purge()
        print(f"{ref.component_id}: purged {n} dead-lettered documents")
    return 0


async def replay(ref: EsOutputRef, timeout_secs: float) -> dict[str, int]:
    """Re-send one output's DLQ; returns counts by outcome (delivered, rejected, unknown)."""
    q = _dlq(ref)
    claimed = q.claim()
    records = list(q.read(claimed))
    if not records:
        q.purge(claimed)
        return {"delivered": 0, "rejected": 0, "unknown": 0}
    metrics = ComponentMetrics(ref.component_id, "output", "elasticsearch")
    try:
        output = ElasticsearchOutput(ref.config, BuildContext(ref.component_id, ref.data_dir, "dlq-replay", metrics))
    except BuildError as e:
        _restore(q, records, claimed)
        raise CliError(f"outputs.{ref.component_id}: {e}") from e
    tokens: list[AckToken] = []
    try:
        if ref.config.healthcheck:
            await output.healthcheck()
        inbox = Channel(max(len(records), 1))
        ctx = OutputContext(ref.component_id, inbox, ref.data_dir, metrics, Health())
        for start in range(0, len(records), _REPLAY_BATCH):
            chunk = records[start:start + _REPLAY_BATCH]
            for rec in chunk:
                token = AckToken(None, None)
                tokens.append(token)
                await inbox.send(Batch.from_events([rec["event"] if isinstance(rec.get("event"), dict) else {}],
                                                   token))
        await inbox.close()
        async with asyncio.timeout(timeout_secs):
            await output.run(ctx)
    except HealthcheckError as e:
        await output.close()
        _restore(q, records, claimed)
        raise CliError(f"outputs.{ref.component_id}: {e}") from e
    except TimeoutError:
        pass  # unsettled tokens are written back below
    unknown = [rec for rec, tok in zip(records, tokens) if not tok.settled or tok.status == AckStatus.ERRORED]
    unknown += records[len(tokens):]
    _restore(q, unknown, claimed)
    counts = Counter("rejected" if t.status == AckStatus.REJECTED else "delivered"
                     for t in tokens if t.settled and t.status != AckStatus.ERRORED)
    return {"delivered": counts["delivered"], "rejected": counts["rejected"], "unknown": len(unknown)}


def _restore(q: DeadLetterQueue, keep: list[dict[str, Any]], claimed: list[Any]) -> None:
    """Write back records whose fate is unknown, then drop the claimed segments."""
    q.write_sync(keep)
    q.purge(claimed)


async def _replay_all(refs: list[EsOutputRef], timeout_secs: float) -> int:
    code = 0
    for ref in refs:
        c = await replay(ref, timeout_secs)
        print(f"{ref.component_id}: replayed {c['delivered'] + c['rejected'] + c['unknown']} documents: "
              f"{c['delivered']} delivered, {c['rejected']} refused again (back in the DLQ), "
              f"{c['unknown']} not confirmed before the timeout (kept)")
        if c["rejected"] or c["unknown"]:
            code = 1
    return code


def main(argv: list[str]) -> int:
    p = argparse.ArgumentParser(prog="logferry dlq", description="Inspect, re-send or delete documents "
                                "Elasticsearch refused (the elasticsearch output's dead-letter queue).")
    p.add_argument("action", choices=["list", "replay", "purge"])
    p.add_argument("-c", "--config", default=os.environ.get("LOGFERRY_CONFIG"),
                   help="logferry config file (default: $LOGFERRY_CONFIG)")
    p.add_argument("--output", help="only this output id")
    p.add_argument("--json", action="store_true", help="list: print the raw NDJSON records")
    p.add_argument("--limit", type=int, default=None, help="list: print at most this many records")
    p.add_argument("--timeout-secs", type=float, default=300.0, help="replay: give up waiting after this long")
    args = p.parse_args(argv)
    if not args.config:
        fail("no config file: pass -c FILE or set LOGFERRY_CONFIG")
        return EX_CONFIG
    try:
        refs = es_outputs(args.config, args.output)
        if args.action == "list":
            return cmd_list(refs, args.json, args.limit)
        if args.action == "purge":
            return cmd_purge(refs)
        return asyncio.run(_replay_all(refs, args.timeout_secs))
    except CliError as e:
        fail(str(e))
        return e.code
