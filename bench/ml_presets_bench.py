"""Throughput of the ML presets (per line) and of filter/route conditions (per event), on the shared ML corpus.

Run: /work/venv/bin/python bench/ml_presets_bench.py   (from the repo root; needs ../shared/corpus/ml)
Prints lines/s per preset on the files it is meant for, plus its rate on lines it must reject.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from logferry.agent.event import Batch  # noqa: E402
from logferry.transforms.condition import compile_condition  # noqa: E402
from logferry.transforms.parse.ml import ML_FORMATS  # noqa: E402
from logferry.transforms.route import Route  # noqa: E402

CORPUS = Path(__file__).resolve().parents[1] / ".." / "shared" / "corpus" / "ml"
CASES = {
    "training_progress": "deepspeedexamples/actor_opt-1.3b_critic_opt-350m_globalBatchSize64.log",
    "torchserve_metrics": "torchserve/llama-example/ts_log.log",
    "vllm": "vllm-production-stack/router.log",
    "python_traceback": "torchserve/pytest/model_log.log",
    "cuda_oom": "torchserve/pytest/model_log.log",
    "hf_trainer": "deepspeedexamples/opt-1.3b-globalBatchSize128.log",
    "keras": "deepspeedexamples/opt-1.3b-globalBatchSize128.log",
}


def rate(fn: Callable[[str], Any], lines: list[str], min_secs: float = 0.3) -> tuple[float, int]:
    hits = sum(1 for x in lines if fn(x) is not None)
    n = 0
    t0 = time.perf_counter()
    while time.perf_counter() - t0 < min_secs:
        for x in lines:
            fn(x)
        n += len(lines)
    return n / (time.perf_counter() - t0), hits


def main() -> None:
    for name, rel in CASES.items():
        lines = (CORPUS / rel).read_text(encoding="utf-8").split("\n")
        per_s, hits = rate(ML_FORMATS[name], lines)
        print(f"{name:20s} {per_s / 1e3:8.0f} k lines/s   ({hits}/{len(lines)} lines matched in {rel})")
    events = [{"log.level": lvl, "ml.loss": i / 100, "tags": ["x"], "message": "step done"}
              for i, lvl in zip(range(10_000), ["INFO", "ERROR", "WARNING", "DEBUG"] * 2500)]
    cond = compile_condition('log.level in ["ERROR", "WARNING"] and ml.loss < 50 or message =~ "OOM"')
    per_s, _ = rate(cond, events)  # type: ignore[arg-type]
    print(f"{'condition':20s} {per_s / 1e3:8.0f} k events/s")
    route = Route({"errors": compile_condition('log.level == "ERROR"'), "loss": compile_condition("ml.loss > 90")})
    t0 = time.perf_counter()
    for _ in range(20):
        route.route(Batch.from_events([dict(e) for e in events]))
    print(f"{'route (2 routes)':20s} {20 * len(events) / (time.perf_counter() - t0) / 1e3:8.0f} k events/s (incl. dict copies)")


if __name__ == "__main__":
    main()
