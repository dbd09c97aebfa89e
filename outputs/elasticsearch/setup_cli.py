"""`logferry setup elasticsearch -c FILE`: install the ILM policy (if configured), the index template and the data stream.

Run once per cluster (again after upgrading logferry); the agent itself never changes cluster settings.
"""

from __future__ import annotations

import argparse
import asyncio
import os

from logferry.agent.errors import EX_CONFIG, BuildError, HealthcheckError
from logferry.outputs.elasticsearch.cli_config import (
    CliError,
    EsOutputRef,
    es_outputs,
    fail,
)
from logferry.outputs.elasticsearch.health import check_cluster
from logferry.outputs.elasticsearch.service import ElasticsearchService, build_client
from logferry.outputs.elasticsearch.template import (
    build_ilm_policy,
    build_index_template,
)


async def install(ref: EsOutputRef, service: ElasticsearchService) -> list[str]:
    """Install everything for one output; returns what was done, raises ``CliError`` on refusal."""
    cfg = ref.config
    done: list[str] = []
    try:
        major = await check_cluster(service, cfg)
    except HealthcheckError as e:
        raise CliError(f"outputs.{ref.component_id}: {e}") from e
    done.append(f"Elasticsearch {major}.x reachable")
    if cfg.lifecycle is not None:
        name = cfg.lifecycle.policy_name
        ans = await service.request("PUT", f"/_ilm/policy/{name}", build_ilm_policy(cfg.lifecycle))
        if ans.status != 200:
            raise CliError(f"outputs.{ref.component_id}: installing ILM policy `{name}` failed: "
                           f"HTTP {ans.status} {ans.error}")
        done.append(f"ILM policy `{name}` installed")
    tpl = build_index_template(cfg)
    ans = await service.request("PUT", f"/_index_template/{cfg.template_name}", tpl)
    if ans.status != 200:
        raise CliError(f"outputs.{ref.component_id}: installing index template `{cfg.template_name}` failed: "
                       f"HTTP {ans.status} {ans.error}")
    done.append(f"index template `{cfg.template_name}` installed for {', '.join(tpl['index_patterns'])}")
    if cfg.mode == "data_stream":
        name = cfg.data_stream.name
        ans = await service.request("PUT", f"/_data_stream/{name}")
        if ans.status == 200:
            done.append(f"data stream `{name}` created")
        elif ans.status == 400 and "already_exists" in ans.error:
            done.append(f"data stream `{name}` already exists")
        else:
            raise CliError(f"outputs.{ref.component_id}: creating data stream `{name}` failed: "
                           f"HTTP {ans.status} {ans.error}")
    return done


async def _run(refs: list[EsOutputRef]) -> int:
    for ref in refs:
        try:
            service = ElasticsearchService(build_client(ref.config), gzip=ref.config.compression == "gzip")
        except BuildError as e:
            raise CliError(f"outputs.{ref.component_id}: {e}") from e
        try:
            for line in await install(ref, service):
                print(f"{ref.component_id}: {line}")
        finally:
            await service.close()
    return 0


def main(argv: list[str]) -> int:
    p = argparse.ArgumentParser(prog="logferry setup", description="Install index template, lifecycle policy "
                                "and data stream for the elasticsearch outputs of a config.")
    p.add_argument("target", nargs="?", choices=["elasticsearch"], default="elasticsearch")
    p.add_argument("-c", "--config", default=os.environ.get("LOGFERRY_CONFIG"),
                   help="logferry config file (default: $LOGFERRY_CONFIG)")
    p.add_argument("--output", help="only this output id")
    args = p.parse_args(argv)
    if not args.config:
        fail("no config file: pass -c FILE or set LOGFERRY_CONFIG")
        return EX_CONFIG
    try:
        return asyncio.run(_run(es_outputs(args.config, args.output)))
    except CliError as e:
        fail(str(e))
        return e.code
