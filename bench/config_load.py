"""Time `load_config_text` on a generated pipeline: N sources -> N transforms -> N outputs, valid and broken.

Run: /work/venv/bin/python bench/config_load.py [N]   (from the repo root; uses the test-only component types)
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from logferry.agent import registry  # noqa: E402
from logferry.agent.config.load import load_config_text  # noqa: E402
from logferry.agent.errors import ConfigError  # noqa: E402
from tests.agent.config.conftest import DEMO_TYPES  # noqa: E402


def pipeline(n: int, broken: bool) -> str:
    lines = ["data_dir: ${STATE:-/tmp/state}", "sources:"]
    lines += [f"  s{i}: {{type: demo, include: ['${{LOG_DIR}}/{i}/*.log'], max_line_bytes: {0 if broken else 4096}}}"
              for i in range(n)]
    lines += ["transforms:"] + [f"  t{i}: {{type: demo, inputs: [s{i}]}}" for i in range(n)]
    lines += ["outputs:"]
    for i in range(n):
        lines += [f"  o{i}:", "    type: demo", f"    inputs: [t{i}]", "    endpoint: http://sink.invalid",
                  f"    batch: {{max_bytes: {-1 if broken else 1000}, max_events: 10}}"]
    return "\n".join(lines) + "\n"


def best_of(runs: int, fn) -> float:  # type: ignore[no-untyped-def]
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return min(times)


def main() -> None:
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 100
    for table, kind in ((registry.SOURCES, "sources"), (registry.TRANSFORMS, "transforms"),
                        (registry.OUTPUTS, "outputs")):
        table.clear()
        table.update(DEMO_TYPES[kind])
    env = {"LOG_DIR": "/var/log"}
    valid, broken = pipeline(n, False), pipeline(n, True)
    load_config_text(valid, "bench.yaml", env)  # warm imports and caches

    def load_broken() -> None:
        try:
            load_config_text(broken, "bench.yaml", env)
        except ConfigError as exc:
            assert len(exc.problems) == 2 * n
    print(f"{3 * n} components, {len(valid.splitlines())} lines")
    print(f"valid:  {best_of(5, lambda: load_config_text(valid, 'bench.yaml', env)) * 1000:.1f} ms")
    print(f"broken: {best_of(5, load_broken) * 1000:.1f} ms ({2 * n} problems)")


if __name__ == "__main__":
    main()
