"""Fixtures of the chaos suite: a real moto S3 server (session wide) and a bucket per test."""

from tests.servers.moto_server import _aws_env, _moto_s3, _s3_bucket  # noqa: F401
