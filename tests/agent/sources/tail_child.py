"""A `file` source in its own process, for crash tests: writes every message it gets to a file.

    python -m tests.agent.sources.tail_child GLOB DATA_DIR OUT [--once]

Each batch is appended to OUT and flushed before its ack is settled, the
way an output settles only after delivery.
"""

from __future__ import annotations

import asyncio
import sys
from pathlib import Path

from tests.agent.sources.harness import Harness, make_config


async def main(glob: str, data_dir: Path, out: Path, once: bool) -> None:
    cfg = make_config(include=[glob], checkpoint_interval_secs=0.02, read_chunk_bytes=16384)
    h = Harness(cfg, data_dir, once=once)

    async def consume() -> None:
        with open(out, "a", encoding="utf-8") as f:  # noqa: ASYNC230 (test child, small writes)
            async for batch in h.channel:
                f.write("".join(m + "\n" for m in batch.messages()))
                f.flush()
                if batch.ack is not None:
                    batch.ack.settle()
                await asyncio.sleep(0.002)  # a slow output, so a kill lands mid-file

    async with asyncio.TaskGroup() as tg:
        tg.create_task(consume())
        tg.create_task(h._run_source())
    await h.source.finalize()


if __name__ == "__main__":
    asyncio.run(main(sys.argv[1], Path(sys.argv[2]), Path(sys.argv[3]), "--once" in sys.argv[4:]))
