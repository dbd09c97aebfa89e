"""Shared by the `logferry dlq` and `logferry setup elasticsearch` commands: find the ES outputs of a config."""

from __future__ import annotations

import sys
from dataclasses import dataclass
from pathlib import Path

from logferry.agent.config.load import load_config
from logferry.agent.errors import EX_CONFIG, ConfigError
from logferry.outputs.elasticsearch.config import ElasticsearchOutputConfig


@dataclass
class EsOutputRef:
    component_id: str
    config: ElasticsearchOutputConfig
    data_dir: Path  # the output's own directory, as the runtime gives it


class CliError(Exception):
    def __init__(self, message: str, code: int = 1) -> None:
        super().__init__(message)
        self.code = code


def es_outputs(config_path: str, only: str | None = None) -> list[EsOutputRef]:
    """Every `elasticsearch` output of the config (or just ``only``); ``CliError`` when there is none."""
    try:
        cfg = load_config(config_path)
    except ConfigError as e:
        raise CliError(str(e), EX_CONFIG) from e
    except OSError as e:
        raise CliError(f"{config_path}: {e.strerror}", EX_CONFIG) from e
    refs = [EsOutputRef(cid, oc, Path(cfg.data_dir) / "outputs" / cid)
            for cid, oc in cfg.outputs.items() if isinstance(oc, ElasticsearchOutputConfig)]
    if only is not None:
        refs = [r for r in refs if r.component_id == only]
        if not refs:
            raise CliError(f"{config_path}: no elasticsearch output named `{only}`", EX_CONFIG)
    if not refs:
        raise CliError(f"{config_path}: no output of type `elasticsearch`", EX_CONFIG)
    return refs


def fail(message: str) -> None:
    print(f"logferry: {message}", file=sys.stderr)
