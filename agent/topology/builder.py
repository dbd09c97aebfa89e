"""Turn a validated config into components joined by channels (no task started yet)."""

from __future__ import annotations

import asyncio
import socket
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from logferry.agent.component import (
    BuildContext,
    Health,
    Output,
    OutputContext,
    Source,
    SourceContext,
    Transform,
)
from logferry.agent.config.graph import split_input
from logferry.agent.config.model import LoadedConfig
from logferry.agent.errors import BuildError
from logferry.agent.telemetry import ComponentMetrics
from logferry.agent.topology.channel import Channel
from logferry.agent.topology.fanout import Fanout

if TYPE_CHECKING:
    from logferry.agent.buffers.disk.buffer import DiskBuffer

TRANSFORM_INBOX_EVENTS = 8192
# What upstream may hand a disk buffer's writer before it has written it (group commit, backpressure).
DISK_BUFFER_INBOX_EVENTS = 4096


@dataclass
class BuiltSource:
    id: str
    source: Source
    ctx: SourceContext  # ``ctx.out`` is the source's fanout


@dataclass
class BuiltTransform:
    id: str
    transform: Transform
    inbox: Channel
    fanouts: dict[str | None, Fanout]
    metrics: ComponentMetrics


@dataclass
class BuiltOutput:
    id: str
    output: Output
    ctx: OutputContext
    buffer: DiskBuffer | None = None  # a disk buffer runs as its own task in front of the output


@dataclass
class BuiltTopology:
    config: LoadedConfig
    shutdown: asyncio.Event
    sources: list[BuiltSource] = field(default_factory=list)
    transforms: list[BuiltTransform] = field(default_factory=list)
    outputs: list[BuiltOutput] = field(default_factory=list)

    def healths(self) -> dict[str, Health]:
        return {o.id: o.ctx.health for o in self.outputs}


def build_topology(cfg: LoadedConfig, *, once: bool = False, host_name: str | None = None) -> BuiltTopology:
    """Instantiate every component and wire channels; raises ``BuildError`` naming the component."""
    host = host_name or socket.gethostname()
    data_dir = Path(cfg.data_dir)
    shutdown = asyncio.Event()
    topo = BuiltTopology(cfg, shutdown)

    def build(kind: str, cid: str, conf: Any, kind_label: str) -> tuple[Any, BuildContext]:
        cdir = data_dir / kind / cid
        try:
            cdir.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise BuildError(f"{kind}.{cid}: cannot create data directory {cdir}: {exc.strerror}") from exc
        metrics = ComponentMetrics(cid, kind_label, conf.type)
        bctx = BuildContext(component_id=cid, data_dir=cdir, host_name=host, metrics=metrics, once=once)
        try:
            return conf.build(bctx), bctx
        except (BuildError, OSError, ValueError) as exc:
            raise BuildError(f"{kind}.{cid}: {exc}") from exc

    # Inboxes first, so upstream fanouts can point at them. Output metrics exist before the
    # output itself so buffer drops are counted against it.
    output_metrics = {oid: ComponentMetrics(oid, "output", oconf.type) for oid, oconf in cfg.outputs.items()}
    inboxes: dict[str, tuple[Channel, bool]] = {}
    output_inboxes: dict[str, Channel] = {}
    disk_buffers: dict[str, DiskBuffer] = {}
    for tid, tconf in cfg.transforms.items():
        inboxes[tid] = (Channel(TRANSFORM_INBOX_EVENTS, senders=len(tconf.inputs)), True)
    for oid, oconf in cfg.outputs.items():
        buf = oconf.buffer
        metrics = output_metrics[oid]
        if buf.type == "disk":
            # Upstream feeds the buffer's writer; the buffer's reader feeds the output.
            # Imported here so a build without the disk package still runs memory-buffered pipelines.
            from logferry.agent.buffers.disk.buffer import DiskBuffer
            upstream = Channel(DISK_BUFFER_INBOX_EVENTS, senders=len(oconf.inputs))
            output_inboxes[oid] = Channel(buf.max_events, senders=1)
            bdir = data_dir / "outputs" / oid / "buffer"
            try:
                disk_buffers[oid] = DiskBuffer(oid, bdir, buf, upstream, output_inboxes[oid], metrics,
                                               once=once, shutdown=shutdown)
            except BuildError as exc:
                raise BuildError(f"outputs.{oid}.buffer: {exc}") from exc
            except OSError as exc:
                raise BuildError(f"outputs.{oid}.buffer: cannot use {bdir}: {exc.strerror or exc}") from exc
            inboxes[oid] = (upstream, False)
            continue
        inboxes[oid] = (Channel(buf.max_events, senders=len(oconf.inputs), max_bytes=buf.max_size_bytes,
                                drop_when_full=buf.when_full == "drop_newest",
                                on_drop=lambda n, m=metrics: m.dropped(n, "buffer_full")), False)
        output_inboxes[oid] = inboxes[oid][0]

    fanouts: dict[tuple[str, str | None], Fanout] = {}
    for sid in cfg.sources:
        fanouts[(sid, None)] = Fanout()
    for tid, tconf in cfg.transforms.items():
        fanouts[(tid, None)] = Fanout()
        for name in tconf.output_names():
            fanouts[(tid, name)] = Fanout()
    for cid, conf in [*cfg.transforms.items(), *cfg.outputs.items()]:
        channel, mutates = inboxes[cid]
        for ref in conf.inputs:
            fanouts[split_input(ref)].add(channel, mutates)

    for sid, sconf in cfg.sources.items():
        source, bctx = build("sources", sid, sconf, "source")
        ctx = SourceContext(component_id=sid, out=fanouts[(sid, None)], shutdown=shutdown,
                            data_dir=bctx.data_dir, metrics=bctx.metrics,
                            acknowledgements=sconf.can_acknowledge(), once=once)
        topo.sources.append(BuiltSource(sid, source, ctx))
    for tid, tconf in cfg.transforms.items():
        transform, bctx = build("transforms", tid, tconf, "transform")
        outs = {name: f for (cid, name), f in fanouts.items() if cid == tid}
        topo.transforms.append(BuiltTransform(tid, transform, inboxes[tid][0], outs, bctx.metrics))
    for oid, oconf in cfg.outputs.items():
        output, bctx = build("outputs", oid, oconf, "output")
        ctx = OutputContext(component_id=oid, inbox=output_inboxes[oid], data_dir=bctx.data_dir,
                            metrics=bctx.metrics, health=Health())
        topo.outputs.append(BuiltOutput(oid, output, ctx, disk_buffers.get(oid)))
    return topo
