"""A real S3 endpoint for tests: moto's standalone server (``moto[server]``) on 127.0.0.1, ephemeral port.

``MotoS3`` wraps ``ThreadedMotoServer``; the pytest fixtures below give a
session-wide server (``moto_s3``), fake credentials in the environment for
the standard AWS chain (``aws_env``; ``fake_aws_env`` for a child process), and a fresh bucket per test
(``s3_bucket``). Clients are the real boto3 client talking HTTP to it.

Use from a conftest: ``from tests.servers.moto_server import _aws_env, _moto_s3, _s3_bucket  # noqa: F401``.
"""

from __future__ import annotations

import uuid
import warnings
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.request import Request, urlopen

import boto3
import pytest
from botocore.config import Config

REGION = "us-east-1"
FAKE_KEY_ID = "testing"  # fake, accepted by moto
FAKE_SECRET = "testing"


class MotoS3:
    """One moto server thread; ``endpoint_url`` is ``http://127.0.0.1:<port>``."""

    def __init__(self) -> None:
        # moto imports libraries that emit deprecation warnings at import; they are not ours.
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            from moto.server import ThreadedMotoServer

            self._server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
        self.endpoint_url = ""

    def start(self) -> MotoS3:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            self._server.start()
        host, port = self._server.get_host_and_port()
        self.endpoint_url = f"http://{host}:{port}"
        return self

    def stop(self) -> None:
        self._server.stop()

    @property
    def host_port(self) -> str:
        return self.endpoint_url.removeprefix("http://")

    def client(self) -> Any:
        return boto3.session.Session(aws_access_key_id=FAKE_KEY_ID, aws_secret_access_key=FAKE_SECRET,
                                     region_name=REGION).client(
            "s3", endpoint_url=self.endpoint_url, config=Config(s3={"addressing_style": "path"}))

    def reset(self) -> None:
        """Forget every bucket (moto's reset API)."""
        with urlopen(Request(self.endpoint_url + "/moto-api/reset", method="POST"), timeout=10):
            pass


@pytest.fixture(scope="session", name="moto_s3")
def _moto_s3() -> Iterator[MotoS3]:
    server = MotoS3().start()
    try:
        yield server
    finally:
        server.stop()


def fake_aws_env(empty: Path) -> dict[str, str]:
    """Environment for the standard AWS chain: fake credentials, no user config (``empty`` holds no files)."""
    return {"AWS_ACCESS_KEY_ID": FAKE_KEY_ID, "AWS_SECRET_ACCESS_KEY": FAKE_SECRET, "AWS_DEFAULT_REGION": REGION,
            "AWS_CONFIG_FILE": str(empty / "config"), "AWS_SHARED_CREDENTIALS_FILE": str(empty / "credentials"),
            "AWS_EC2_METADATA_DISABLED": "true"}


@pytest.fixture(name="aws_env")
def _aws_env(monkeypatch: pytest.MonkeyPatch, tmp_path_factory: pytest.TempPathFactory) -> None:
    """Fake credentials for the standard AWS chain; no user config or instance metadata lookups."""
    for name, value in fake_aws_env(tmp_path_factory.mktemp("aws")).items():
        monkeypatch.setenv(name, value)
    for name in ("AWS_PROFILE", "AWS_SESSION_TOKEN", "AWS_ENDPOINT_URL", "AWS_ENDPOINT_URL_S3"):
        monkeypatch.delenv(name, raising=False)


@pytest.fixture(name="s3_bucket")
def _s3_bucket(moto_s3: MotoS3, aws_env: None) -> str:
    """A new, empty bucket for one test."""
    name = f"logferry-test-{uuid.uuid4().hex[:12]}"
    moto_s3.client().create_bucket(Bucket=name)
    return name
