"""``logferry`` command line: argument parsing and exit codes only; the work lives elsewhere."""

from __future__ import annotations

import argparse
import asyncio
import importlib
import logging
import os
import sys

from logferry.agent import __version__
from logferry.agent.errors import EX_CONFIG, BuildError, ConfigError

EX_UNAVAILABLE = 69  # sysexits.h: a destination failed its health check

# Commands that belong to a component; imported only when used.
EXTERNAL_COMMANDS: dict[str, tuple[str, str]] = {
    "test": ("logferry.agent.pipeline_tests:main", "run a pipeline's unit tests (like `vector test`)"),
    "dlq": ("logferry.outputs.elasticsearch.dlq_cli:main", "list, replay or purge the Elasticsearch dead-letter queue"),
    "setup": ("logferry.outputs.elasticsearch.setup_cli:main", "install index templates (setup elasticsearch -c FILE)"),
    "decrypt": ("logferry.transforms.encrypt_cli:main", "decrypt fields encrypted by the encrypt transform"),
    "buffer": ("logferry.agent.buffers.cli:main", "inspect, verify or repair a disk buffer"),
}


def _config_arg(p: argparse.ArgumentParser) -> None:
    p.add_argument("-c", "--config", default=os.environ.get("LOGFERRY_CONFIG"),
                   help="pipeline config file (default: $LOGFERRY_CONFIG)")


def _parser() -> argparse.ArgumentParser:
    ap = argparse.ArgumentParser(prog="logferry", description="Log shipping agent for ML services.")
    sub = ap.add_subparsers(dest="command", required=True)
    run = sub.add_parser("run", help="run the pipeline")
    _config_arg(run)
    run.add_argument("--once", action="store_true",
                     help="read every file to its end, deliver, exit 0 (backfills, tests)")
    run.add_argument("--graceful-secs", type=float,
                     default=float(os.environ.get("LOGFERRY_GRACEFUL_SECS", "60")),
                     help="how long SIGTERM waits for in-flight work before cancelling (default 60)")
    run.add_argument("--log-level", default=os.environ.get("LOGFERRY_LOG_LEVEL", "info"),
                     choices=["debug", "info", "warning", "error"])
    val = sub.add_parser("validate", help="check a config file; exit 0, or 78 with every error")
    _config_arg(val)
    val.add_argument("--no-health", action="store_true", help="skip the outputs' health checks")
    sub.add_parser("schema", help="print the JSON Schema of the config file")
    sub.add_parser("version", help="print the version")
    for name, (_, help_text) in EXTERNAL_COMMANDS.items():
        sub.add_parser(name, help=help_text, add_help=False)
    return ap


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if argv and argv[0] in EXTERNAL_COMMANDS:
        module, _, fn = EXTERNAL_COMMANDS[argv[0]][0].partition(":")
        return int(getattr(importlib.import_module(module), fn)(argv[1:]))
    args = _parser().parse_args(argv)
    if args.command == "version":
        print(f"logferry {__version__}")
        return 0
    if args.command == "schema":
        from logferry.agent.config.schema import main as schema_main

        return schema_main([])
    if not args.config:
        print("logferry: no config file: pass -c FILE or set LOGFERRY_CONFIG", file=sys.stderr)
        return EX_CONFIG
    if args.command == "validate":
        return _validate(args.config, health=not args.no_health)
    return _run(args)


def _validate(path: str, *, health: bool) -> int:
    from logferry.agent.config.load import load_config
    from logferry.agent.telemetry import setup_logging
    from logferry.agent.topology.builder import build_topology
    from logferry.agent.topology.running import RunningTopology

    setup_logging("error")
    try:
        cfg = load_config(path)
    except ConfigError as exc:
        print(str(exc), file=sys.stderr)
        return EX_CONFIG
    for w in cfg.warnings:
        print(f"warning: {w}", file=sys.stderr)
    if not health:
        print(f"{path}: ok")
        return 0

    async def probe() -> int:
        try:
            built = build_topology(cfg)
        except BuildError as exc:
            print(f"{path}: {exc}", file=sys.stderr)
            return EX_CONFIG
        running = RunningTopology(built)
        await running.healthchecks()
        bad = {cid: h.reason for cid, h in built.healths().items() if not h.healthy}
        for cid, reason in bad.items():
            print(f"{path}: outputs.{cid}: health check failed: {reason}", file=sys.stderr)
        return EX_UNAVAILABLE if bad else 0

    rc = asyncio.run(probe())
    if rc == 0:
        print(f"{path}: ok")
    return rc


def _run(args: argparse.Namespace) -> int:
    from logferry.agent.run import Agent
    from logferry.agent.runtime_tuning import tune_allocator
    from logferry.agent.telemetry import setup_logging

    tune_allocator()
    setup_logging(args.log_level)
    log = logging.getLogger("logferry.agent")
    agent = Agent(args.config, once=args.once, graceful_secs=args.graceful_secs)
    try:
        return asyncio.run(agent.run())
    except ConfigError as exc:
        print(str(exc), file=sys.stderr)
        return EX_CONFIG
    except BuildError as exc:
        log.error("Could not build the pipeline.", extra={"error": str(exc)})
        return EX_CONFIG
    except KeyboardInterrupt:
        return 130
