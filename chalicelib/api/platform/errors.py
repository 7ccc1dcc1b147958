"""Domain errors -> the billing platform's ``{error, error_code, hint}`` body.
One table: the only place this surface decides status codes."""
from __future__ import annotations

from chalice import Response
from chalice.app import Request

from chalicelib.api.http import json_response
from chalicelib.domain import errors as e

# (status, error, error_code). The seed fixes 4005xx for actions and the
# 403xxx / 409xxx families; the rest follow the same status+sequence pattern.
TABLE: list[tuple[type[e.DialtoneError], int, str, int]] = [
    (e.UnknownActionError, 400, "Invalid Action", 400501),
    (e.ActionFailedError, 400, "Action Failed", 400502),
    (e.MissingParameterError, 400, "Missing Parameter", 400503),
    (e.InvalidFileContentError, 400, "Invalid File Content", 400010),
    (e.UnsupportedCompressionError, 400, "Unsupported Compression", 400011),
    (e.FileSizeMismatchError, 400, "File Size Mismatch", 400012),
    (e.FileHashMismatchError, 400, "File Hash Mismatch", 400013),
    (e.UnknownFieldError, 400, "Unknown Field", 400004),
    (e.ReadOnlyFieldError, 400, "Read-only Field", 400005),
    (e.ValidationError, 400, "Invalid Request", 400001),
    (e.SourceNotAllowedError, 401, "Not Authorised", 401002),
    (e.AuthenticationError, 401, "Not Authorised", 401001),
    (e.ActionPermissionError, 403, "Permission Denied", 403002),
    (e.StorageQuotaExceededError, 403, "Storage Quota Exceeded", 403003),
    (e.PermissionDeniedError, 403, "Permission Denied", 403001),
    (e.NotFoundError, 404, "Not Found", 404001),
    (e.AlreadyExistsError, 409, "Conflict", 409001),
    (e.ConcurrentUpdateError, 409, "Conflict", 409002),
    (e.InvalidStateError, 409, "Invalid State", 409003),
    (e.NumberUnavailableError, 409, "Number Unavailable", 409004),
    (e.InsufficientFundsError, 402, "Insufficient Funds", 402001),
    (e.FileTooLargeError, 413, "File Too Large", 413001),
    (e.TooManyAttemptsError, 429, "Too Many Requests", 429002),
    (e.ServiceUnavailableError, 503, "Service Unavailable", 503001),
]


def error_response(error: e.DialtoneError) -> Response:
    for kind, status, title, code in TABLE:
        if isinstance(error, kind):
            headers = {"WWW-Authenticate": 'Bearer realm="dialtone"'} if status == 401 else None
            if isinstance(error, e.TooManyAttemptsError):
                headers = {"Retry-After": str(error.retry_after)}
            return json_response({"error": title, "error_code": code, "hint": error.message}, status, headers)
    return internal_error()


def internal_error() -> Response:
    return json_response({"error": "Internal Error", "error_code": 500000,
                          "hint": "the request failed unexpectedly; it has been logged"}, 500)


# Statuses the gateway layer (api/http/guard.py) answers without a handler.
_REFUSALS = {404: ("Not Found", 404001), 405: ("Method Not Allowed", 405001), 415: ("Unsupported Media Type", 415001),
             429: ("Too Many Requests", 429001)}


def refusal(request: Request, status: int, message: str, headers: dict[str, str]) -> Response:
    """An unknown path, a method the route lacks, a media type it does not take."""
    if status >= 500:
        return internal_error()
    title, code = _REFUSALS.get(status, ("Invalid Request", status * 1000 + 1))
    return json_response({"error": title, "error_code": code, "hint": message}, status, headers)


def escaped(request: Request, error: e.DialtoneError) -> Response:
    return error_response(error)
