"""Start-up probe: is the cluster reachable, is it Elasticsearch >= 8, may we write the target?

It asks what real operation needs (Vector's rule): the root endpoint, then ``_has_privileges`` for
``create_doc`` (and ``auto_configure`` for data streams) on the target. Each failure says how to fix it.
"""

from __future__ import annotations

from logferry.agent.errors import HealthcheckError
from logferry.outputs.elasticsearch.config import ElasticsearchOutputConfig
from logferry.outputs.elasticsearch.service import ElasticsearchService


async def check_cluster(service: ElasticsearchService, cfg: ElasticsearchOutputConfig) -> int:
    """Returns the server's major version; raises ``HealthcheckError`` with a clear message."""
    where = ", ".join(cfg.endpoints)
    info = await service.request("GET", "/", probe=True)
    if info.status is None:
        raise HealthcheckError(f"Elasticsearch at {where} is unreachable ({info.error}). "
                               "Check `endpoints`, the network and TLS settings.")
    if info.status in (401, 403):
        raise HealthcheckError(f"Elasticsearch at {where} refused our credentials (HTTP {info.status}: "
                               f"{info.error}). Check `auth`.")
    if info.status != 200 or not isinstance(info.body, dict):
        raise HealthcheckError(f"Elasticsearch at {where} answered HTTP {info.status} to GET /: {info.error}")
    number = str(info.body.get("version", {}).get("number", ""))
    try:
        major = int(number.split(".")[0])
    except ValueError:
        raise HealthcheckError(f"{where} did not report an Elasticsearch version (got {number!r}).") from None
    if major < 8:
        raise HealthcheckError(f"Elasticsearch at {where} is version {number}; logferry needs 8.0 or newer.")
    service.use_server_major(major)
    target = cfg.target_pattern
    privileges = ["create_doc"] + (["auto_configure"] if cfg.mode == "data_stream" else [])
    ans = await service.request("POST", "/_security/user/_has_privileges",
                                {"index": [{"names": [target], "privileges": privileges}]})
    if ans.status == 200 and isinstance(ans.body, dict):
        if not ans.body.get("has_all_requested", False):
            held = ans.body.get("index", {}).get(target, {})
            missing = sorted(p for p, ok in held.items() if not ok) or privileges
            raise HealthcheckError(f"the Elasticsearch user may not write to `{target}` (missing index "
                                   f"privileges: {', '.join(missing)}). Grant them to the user or API key.")
    elif ans.status in (401, 403):
        raise HealthcheckError(f"Elasticsearch refused our credentials (HTTP {ans.status}). Check `auth`.")
    # Any other answer (security disabled: 400/500) means there is nothing to check.
    return major
