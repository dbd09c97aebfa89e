"""ElasticsearchOutputConfig validation: clear messages for configs that cannot work."""

from __future__ import annotations

import msgspec
import pytest
from logferry.agent import registry
from logferry.outputs.elasticsearch.config import ElasticsearchOutputConfig


def _conv(**kw: object) -> ElasticsearchOutputConfig:
    return msgspec.convert({"type": "elasticsearch", "inputs": ["a"], "endpoints": ["http://es:9200"], **kw},
                           ElasticsearchOutputConfig)


class TestElasticsearchOutputConfig:
    def test_registry_maps_the_type(self) -> None:
        """The registry's `elasticsearch` type resolves to this config class."""
        assert registry.lookup("outputs", "elasticsearch") is ElasticsearchOutputConfig

    def test_defaults(self) -> None:
        """Defaults: data stream logs-generic-default, event ids, gzip, DLQ on, TLS verification on."""
        cfg = _conv()
        assert cfg.target_pattern == "logs-generic-default"
        assert (cfg.id_mode, cfg.compression, cfg.dead_letter.enabled, cfg.tls.verify_certificate) == (
            "event_id", "gzip", True, True)

    @pytest.mark.parametrize(("kw", "message"), [
        ({"mode": "index"}, "mode `index` needs `index` (a name template)"),
        ({"index": "x"}, "`index` is only used with mode `index`"),
        ({"endpoints": ["es:9200"]}, "endpoint `es:9200` must look like http(s)://host:port"),
        ({"data_stream": {"dataset": "My-App"}}, "data_stream.dataset `My-App` must be lowercase"),
        ({"tls": {"cert_file": "/c.pem"}}, "`cert_file` and `key_file` go together"),
        ({"auth": {"strategy": "basic", "user": "u", "password": {"env": "A", "file": "/b"}}},
         "set exactly one of `env` or `file`"),
        ({"batch": {"max_events": 0}}, "Expected `int` >= 1"),
        ({"bogus": 1}, "Object contains unknown field `bogus`"),
    ])
    def test_invalid(self, kw: dict[str, object], message: str) -> None:
        """Each impossible setting is refused with a message that says what is wrong."""
        with pytest.raises(msgspec.ValidationError) as info:
            _conv(**kw)
        assert message in str(info.value)
