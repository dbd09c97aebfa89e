"""A config file after loading: every component decoded and the graph checked."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from logferry.agent.config.common import ApiConfig, OutputConfig, SourceConfig, TransformConfig
from logferry.agent.config.graph import split_input, topo_sort

DEFAULT_DATA_DIR = "/var/lib/logferry"


@dataclass
class LoadedConfig:
    path: str  # as given by the user
    data_dir: Path
    api: ApiConfig
    sources: dict[str, SourceConfig]
    transforms: dict[str, TransformConfig]
    outputs: dict[str, OutputConfig]
    warnings: list[str] = field(default_factory=list)  # "config.yaml:7:3: transforms.unused: no component consumes it"

    def topo_order(self) -> list[str]:
        """Component ids, every component after its inputs: sources first, then transforms, then outputs."""
        inputs: dict[str, list[str]] = {cid: [] for cid in self.sources}
        for configs in (self.transforms, self.outputs):
            for cid, config in configs.items():
                inputs[cid] = [split_input(ref)[0] for ref in config.inputs]
        return topo_sort(inputs)
