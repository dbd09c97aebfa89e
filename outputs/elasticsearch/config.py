"""Configuration of the `elasticsearch` output: endpoints, auth, TLS, target, ids, batching, DLQ.

Pure checks live in ``__post_init__`` so a config that cannot work is rejected at load;
``build`` resolves secrets (env or file) and may therefore fail with ``BuildError``.
"""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Literal

from logferry.agent.config.common import OutputConfig, Strict
from logferry.agent.errors import BuildError
from logferry.outputs.delivery.config import BatchConfig, RequestConfig
from msgspec import Meta

if TYPE_CHECKING:
    from logferry.agent.component import BuildContext
    from logferry.outputs.elasticsearch.output import ElasticsearchOutput

_DS_PART = re.compile(r"^[a-z0-9_.]+$")


class SecretRef(Strict):
    """Where a secret comes from; the value itself never appears in the config or the logs."""

    env: Annotated[str | None, Meta(description="Environment variable holding the secret.")] = None
    file: Annotated[str | None, Meta(description="File holding the secret (trailing newline stripped).")] = None

    def __post_init__(self) -> None:
        if (self.env is None) == (self.file is None):
            raise ValueError("set exactly one of `env` or `file`")

    def resolve(self, what: str) -> str:
        if self.env is not None:
            value = os.environ.get(self.env)
            if not value:
                raise BuildError(f"{what}: environment variable {self.env} is not set or empty")
            return value
        assert self.file is not None
        try:
            value = Path(self.file).read_text(encoding="utf-8").strip()
        except OSError as e:
            raise BuildError(f"{what}: cannot read secret file {self.file}: {e.strerror}") from e
        if not value:
            raise BuildError(f"{what}: secret file {self.file} is empty")
        return value


class AuthConfig(Strict):
    strategy: Annotated[Literal["basic", "api_key", "bearer"], Meta(description="How to authenticate.")]
    user: Annotated[str | None, Meta(description="basic: user name.")] = None
    password: Annotated[SecretRef | None, Meta(description="basic: the password's env variable or file.")] = None
    api_key: Annotated[SecretRef | None, Meta(description="api_key: the encoded API key's env variable or file.")] = None
    token: Annotated[SecretRef | None, Meta(description="bearer: the token's env variable or file.")] = None

    def __post_init__(self) -> None:
        need = {"basic": ("user", "password"), "api_key": ("api_key",), "bearer": ("token",)}[self.strategy]
        missing = [n for n in need if getattr(self, n) is None]
        if missing:
            raise ValueError(f"auth strategy `{self.strategy}` needs `{'`, `'.join(missing)}`")


class TlsConfig(Strict):
    ca_file: Annotated[str | None, Meta(description="PEM bundle of CAs to trust.")] = None
    cert_file: Annotated[str | None, Meta(description="Client certificate (PEM).")] = None
    key_file: Annotated[str | None, Meta(description="Client certificate key (PEM).")] = None
    verify_certificate: Annotated[bool, Meta(description="Verify the server certificate (off logs a warning).")] = True

    def __post_init__(self) -> None:
        if (self.cert_file is None) != (self.key_file is None):
            raise ValueError("`cert_file` and `key_file` go together")


class DataStreamConfig(Strict):
    type: Annotated[str, Meta(description="data_stream.type; the stream is `{type}-{dataset}-{namespace}`.")] = "logs"
    dataset: Annotated[str, Meta(description="data_stream.dataset.")] = "generic"
    namespace: Annotated[str, Meta(description="data_stream.namespace.")] = "default"

    def __post_init__(self) -> None:
        for name in ("type", "dataset", "namespace"):
            value = getattr(self, name)
            if not _DS_PART.match(value) or "-" in value:
                raise ValueError(f"data_stream.{name} `{value}` must be lowercase letters, digits, `_` or `.`")

    @property
    def name(self) -> str:
        return f"{self.type}-{self.dataset}-{self.namespace}"


class LifecycleConfig(Strict):
    policy_name: Annotated[str, Meta(description="ILM policy `logferry setup` installs and the template uses.")]
    rollover_max_age: Annotated[str, Meta(description="Roll the backing index over after this age.")] = "1d"
    rollover_max_primary_shard_size: Annotated[str, Meta(description="... or this primary shard size.")] = "50gb"
    delete_after: Annotated[str | None, Meta(description="Delete indices this long after rollover (e.g. `30d`).")] = None


class DlqConfig(Strict):
    enabled: Annotated[bool, Meta(description="Write documents Elasticsearch refuses (4xx) to a dead-letter queue.")] = True
    max_segment_bytes: Annotated[int, Meta(gt=0, description="Size at which a DLQ segment file is closed.")] = 64 * 1024 * 1024


class ElasticsearchOutputConfig(OutputConfig):
    endpoints: Annotated[list[str], Meta(min_length=1, description="Base URLs, tried in turn (failover).")]
    mode: Annotated[Literal["data_stream", "index"], Meta(description="Write to a data stream or to named indices.")] = "data_stream"
    data_stream: DataStreamConfig = DataStreamConfig()
    index: Annotated[str | None, Meta(description="index mode: name template, strftime on @timestamp and "
                                                 "`{field.name}` values, e.g. `app-{service.name}-%Y.%m.%d`.")] = None
    id_mode: Annotated[Literal["event_id", "auto"],
                       Meta(description="`event_id`: _id = event.id (replays deduplicate); `auto`: ES assigns ids.")] = "event_id"
    auth: AuthConfig | None = None
    tls: TlsConfig = TlsConfig()
    compression: Annotated[Literal["gzip", "none"], Meta(description="Request body compression.")] = "gzip"
    batch: BatchConfig = BatchConfig()
    request: RequestConfig = RequestConfig()
    adaptive_concurrency: Annotated[bool, Meta(description="Find the best concurrency under `request.concurrency`.")] = True
    dead_letter: DlqConfig = DlqConfig()
    template_name: Annotated[str, Meta(description="Index template `logferry setup elasticsearch` installs.")] = "logferry-logs"
    lifecycle: LifecycleConfig | None = None
    healthcheck: Annotated[bool, Meta(description="Check reachability, version and write permission at start.")] = True

    def __post_init__(self) -> None:
        for url in self.endpoints:
            if not re.match(r"^https?://[^/\s]+/?$", url):
                raise ValueError(f"endpoint `{url}` must look like http(s)://host:port")
        if self.mode == "index":
            if not self.index:
                raise ValueError("mode `index` needs `index` (a name template)")
        elif self.index is not None:
            raise ValueError("`index` is only used with mode `index`")

    @property
    def target_pattern(self) -> str:
        """What the template and the privilege check cover: the stream name, or the index template's wildcard form."""
        if self.mode == "data_stream":
            return self.data_stream.name
        assert self.index is not None
        return re.sub(r"(%[a-zA-Z]|\{[^}]*\})+", "*", self.index)

    def build(self, ctx: BuildContext) -> ElasticsearchOutput:
        from logferry.outputs.elasticsearch.output import ElasticsearchOutput

        return ElasticsearchOutput(self, ctx)
