"""Tests of failure classification for archive writes."""

from __future__ import annotations

import errno

from botocore.exceptions import ClientError, EndpointConnectionError, NoCredentialsError
from logferry.outputs.s3.retry import Outcome, classify


def _client_error(code: str, status: int) -> ClientError:
    return ClientError({"Error": {"Code": code, "Message": "msg"}, "ResponseMetadata": {"HTTPStatusCode": status}},
                       "PutObject")


class TestClassify:
    def test_throttling_and_5xx_are_transient(self) -> None:
        """SlowDown, 503 and 500 responses are retried."""
        for code, status in (("SlowDown", 503), ("InternalError", 500), ("Whatever", 502), ("", 429)):
            assert classify(_client_error(code, status))[0] is Outcome.RETRY

    def test_connection_errors_are_transient(self) -> None:
        """A refused connection is retried."""
        assert classify(EndpointConnectionError(endpoint_url="http://x"))[0] is Outcome.RETRY

    def test_operator_fixable_errors_wait(self) -> None:
        """Missing bucket, denied access, missing credentials and a full disk are retried while a person acts."""
        assert classify(_client_error("NoSuchBucket", 404))[0] is Outcome.WAIT
        assert classify(_client_error("AccessDenied", 403))[0] is Outcome.WAIT
        assert classify(NoCredentialsError())[0] is Outcome.WAIT
        assert classify(OSError(errno.ENOSPC, "No space left on device"))[0] is Outcome.WAIT

    def test_malformed_request_fails(self) -> None:
        """A request S3 will never accept fails the object, with the code in the reason."""
        outcome, reason = classify(_client_error("InvalidArgument", 400))
        assert outcome is Outcome.FAIL and reason == "InvalidArgument: msg"
