"""Fixtures of the S3/archive output tests: a real moto S3 server and helpers to drive the output."""

from tests.servers.moto_server import _aws_env, _moto_s3, _s3_bucket  # noqa: F401
