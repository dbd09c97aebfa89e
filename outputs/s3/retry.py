"""Failure -> what to do: retry (transient), wait for an operator (retried too), or fail the object.

Pure classification of boto3/botocore and OS errors. Transient failures
(throttling, 5xx, connection and timeout errors) and failures an operator
can fix while we wait (missing bucket, denied access, bad credentials, a
full disk) are retried without limit: data waits, it does not vanish.
Only a request S3 will never accept as sent (e.g. ``InvalidArgument``)
fails the object; its batches settle ERRORED, so the source checkpoint
stays put and the lines are read again after the config is fixed.
"""

from __future__ import annotations

import enum
import errno

from botocore.exceptions import (
    BotoCoreError,
    ClientError,
    HTTPClientError,
    NoCredentialsError,
    ParamValidationError,
    PartialCredentialsError,
)
from botocore.exceptions import (
    ConnectionError as BotoConnectionError,
)


class Outcome(enum.Enum):
    RETRY = "retry"
    WAIT = "wait"  # retried as well, but a person must act: logged as an error
    FAIL = "fail"


THROTTLING_CODES = frozenset({
    "SlowDown", "Throttling", "ThrottlingException", "RequestThrottled", "TooManyRequests",
    "RequestLimitExceeded", "RequestTimeout", "RequestTimeTooSkewed", "InternalError", "ServiceUnavailable",
    "OperationAborted",
})
OPERATOR_CODES = frozenset({
    "NoSuchBucket", "AccessDenied", "AllAccessDisabled", "InvalidAccessKeyId", "SignatureDoesNotMatch",
    "ExpiredToken", "InvalidToken", "TokenRefreshRequired", "AccountProblem", "NoSuchUpload",
    "KMS.DisabledException", "KMS.NotFoundException", "KMS.KMSInvalidStateException", "KMS.AccessDeniedException",
    "PermanentRedirect", "AuthorizationHeaderMalformed", "InvalidBucketState",
})
_OPERATOR_ERRNOS = frozenset({errno.ENOSPC, errno.EDQUOT, errno.EACCES, errno.EPERM, errno.EROFS})


def classify(exc: BaseException) -> tuple[Outcome, str]:
    """The outcome for a failed put, and a one-line reason fit for logs and /health."""
    if isinstance(exc, ClientError):
        err = exc.response.get("Error", {})
        code = str(err.get("Code", ""))
        status = int(exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode", 0) or 0)
        reason = f"{code or 'HTTP ' + str(status)}: {err.get('Message', '')}".rstrip(": ")
        if code in THROTTLING_CODES or status == 429 or status >= 500:
            return Outcome.RETRY, reason
        if code in OPERATOR_CODES or status in (301, 403, 404) or code.startswith("KMS."):
            return Outcome.WAIT, reason
        return Outcome.FAIL, reason
    if isinstance(exc, (NoCredentialsError, PartialCredentialsError)):
        return Outcome.WAIT, f"no usable AWS credentials ({exc})"
    if isinstance(exc, ParamValidationError):
        return Outcome.FAIL, str(exc)
    if isinstance(exc, (BotoConnectionError, HTTPClientError, BotoCoreError)):
        return Outcome.RETRY, f"{type(exc).__name__}: {exc}"
    if isinstance(exc, OSError):
        if exc.errno in _OPERATOR_ERRNOS:
            return Outcome.WAIT, f"{type(exc).__name__}: {exc}"
        return Outcome.RETRY, f"{type(exc).__name__}: {exc}"
    return Outcome.FAIL, f"{type(exc).__name__}: {exc}"
