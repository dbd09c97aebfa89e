"""TLS (CA file, client certificate, verification off) and secrets handling of the elasticsearch output."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from pathlib import Path

import pytest
from logferry.agent.errors import BuildError, HealthcheckError

from tests.outputs.elasticsearch.helpers import (
    build_output,
    drive,
    make_config,
    make_events,
)
from tests.servers.es_wire import EsWireServer
from tests.servers.tls import Pki, make_pki


@pytest.fixture
def pki(tmp_path: Path) -> Pki:
    d = tmp_path / "pki"
    d.mkdir()
    return make_pki(d)


@pytest.fixture
def tls_es(pki: Pki) -> Iterator[EsWireServer]:
    server = EsWireServer("9.1.2", ssl_context=pki.server_context(require_client_cert=True)).start()
    yield server
    server.stop()


class TestTls:
    async def test_ca_file_and_client_certificate(self, tls_es: EsWireServer, pki: Pki, tmp_path: Path) -> None:
        """With the CA file and a client certificate the output verifies the server and is let in."""
        cfg = make_config(tls_es.url, tls={"ca_file": str(pki.ca_file), "cert_file": str(pki.client_cert),
                                           "key_file": str(pki.client_key)})
        await drive(cfg, tmp_path, [make_events(7)])
        assert tls_es.state.count() == 7

    async def test_unknown_ca_fails_the_healthcheck(self, tls_es: EsWireServer, pki: Pki, tmp_path: Path) -> None:
        """Without our CA the server certificate is not trusted (verification is on by default)."""
        cfg = make_config(tls_es.url, tls={"cert_file": str(pki.client_cert), "key_file": str(pki.client_key)})
        output = build_output(cfg, tmp_path)
        with pytest.raises(HealthcheckError, match=r"is unreachable \(.*(CERTIFICATE_VERIFY_FAILED|certificate)"):
            await output.healthcheck()
        await output.close()

    async def test_verification_off_warns_and_connects(self, tls_es: EsWireServer, pki: Pki, tmp_path: Path,
                                                       caplog: pytest.LogCaptureFixture) -> None:
        """verify_certificate: false connects to an untrusted server and logs a warning saying so."""
        cfg = make_config(tls_es.url, tls={"verify_certificate": False, "cert_file": str(pki.client_cert),
                                           "key_file": str(pki.client_key)})
        with caplog.at_level(logging.WARNING, "logferry.outputs.elasticsearch"):
            await drive(cfg, tmp_path, [make_events(3)])
        assert tls_es.state.count() == 3
        assert any("TLS certificate verification is OFF" in r.getMessage() for r in caplog.records)

    def test_missing_ca_file_is_a_build_error(self, tmp_path: Path) -> None:
        """A CA file that does not exist fails at build with a message naming TLS."""
        cfg = make_config("https://127.0.0.1:9200", tls={"ca_file": str(tmp_path / "nope.pem")})
        with pytest.raises(BuildError, match=r"^TLS files cannot be loaded"):
            build_output(cfg, tmp_path)


class TestSecrets:
    def test_missing_env_secret_names_the_variable(self, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
        """An unset password variable fails the build naming the variable."""
        monkeypatch.delenv("LOGFERRY_TEST_NOPE", raising=False)
        cfg = make_config("http://h:9200", auth={"strategy": "basic", "user": "u",
                                                 "password": {"env": "LOGFERRY_TEST_NOPE"}})
        with pytest.raises(BuildError, match=r"^auth.password: environment variable LOGFERRY_TEST_NOPE is not set"):
            build_output(cfg, tmp_path)

    async def test_secret_never_appears_in_logs(self, es: EsWireServer, tmp_path: Path,
                                                monkeypatch: pytest.MonkeyPatch,
                                                caplog: pytest.LogCaptureFixture) -> None:
        """Through refusals (401) and recovery, no log record contains the bearer token."""
        token = "fake-bearer-token-5f2d"
        monkeypatch.setenv("ES_TEST_TOKEN", token)
        es.state.required_auth = {"Bearer something-else"}
        cfg = make_config(es.url, auth={"strategy": "bearer", "token": {"env": "ES_TEST_TOKEN"}})

        async def fix_auth(run: object) -> None:
            import asyncio
            await asyncio.sleep(0.2)
            es.state.required_auth = {f"Bearer {token}"}

        with caplog.at_level(logging.DEBUG):
            await drive(cfg, tmp_path, [make_events(3)], healthcheck=False, during=fix_auth)
        assert es.state.count() == 3
        assert caplog.records
        assert not [r for r in caplog.records if token in r.getMessage() or token in str(r.__dict__)]

    def test_auth_strategy_needs_its_secret(self) -> None:
        """A strategy without its secret is a config error naming the missing key."""
        with pytest.raises(Exception, match=r"auth strategy `api_key` needs `api_key`"):
            make_config("http://h:9200", auth={"strategy": "api_key"})
