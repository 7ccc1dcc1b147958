"""Errors named for what went wrong. The domain and services raise them; each
API surface maps them once, in one table, to its own status codes and body."""
from __future__ import annotations


class DialtoneError(Exception):
    """Base of every expected failure. ``field`` names the offending input."""

    def __init__(self, message: str, *, field: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.field = field


class ValidationError(DialtoneError):
    """Input is malformed or breaks a rule; nothing was written."""


class UnknownFieldError(ValidationError):
    """A field the resource does not have (no mass assignment)."""


class ReadOnlyFieldError(ValidationError):
    """A field the client may read but not write."""


class NotFoundError(DialtoneError):
    """No such resource, or not visible to the caller (the two are not told apart)."""


class AlreadyExistsError(DialtoneError):
    """A uniqueness constraint (account number, username, phone number) was hit."""


class ConcurrentUpdateError(DialtoneError):
    """The item changed between read and write more often than we retry."""


class AuthenticationError(DialtoneError):
    """Missing, unknown or revoked credentials."""


class SourceNotAllowedError(AuthenticationError):
    """Valid credentials from an address outside the user's allow-list."""


class PermissionDeniedError(DialtoneError):
    """Authenticated, but the user's rights do not cover this request."""


class NumberUnavailableError(DialtoneError):
    """The numbers asked for are not available (taken, reserved, or never stocked)."""


class InvalidStateError(DialtoneError):
    """The resource is not in a state that allows this action: an order
    already processed, a port order moving backwards, a billing-API action
    outside the states it is valid in (409003 there, 409 on the carrier API)."""


class IdempotencyKeyReusedError(DialtoneError):
    """An Idempotency-Key was sent again with a different request, or while the first is still running."""


class UnknownActionError(ValidationError):
    """``?action=`` names no action of this resource (400501)."""


class ActionFailedError(ValidationError):
    """The action could not be carried out with the given parameters (400502)."""


class MissingParameterError(ValidationError):
    """A parameter the action requires is absent (400503)."""


class ActionPermissionError(PermissionDeniedError):
    """The user may write, but not perform this action (403002)."""


class FileRejectedError(ValidationError):
    """An uploaded file could not be accepted as sent; nothing was stored."""


class InvalidFileContentError(FileRejectedError):
    """Not valid base64, or not a valid stream of the named compression."""


class UnsupportedCompressionError(FileRejectedError):
    """``_compression`` names a scheme we do not accept."""


class FileSizeMismatchError(FileRejectedError):
    """``_fileSize`` differs from the size of the received file."""


class FileHashMismatchError(FileRejectedError):
    """``_fileHash`` differs from the SHA-1 of the received file."""


class FileTooLargeError(DialtoneError):
    """The file (after decompression) exceeds the configured size limit."""


class StorageQuotaExceededError(DialtoneError):
    """Storing the file would take the tenant past its storage quota."""


class InsufficientFundsError(DialtoneError):
    """The movement would take a balance below its credit limit; nothing was written."""


class PaymentDeclinedError(DialtoneError):
    """The payment gateway refused the card; nothing was credited."""


class CaptchaFailedError(DialtoneError):
    """The reCAPTCHA token is missing or the verifier refused it."""


class LinkInvalidError(DialtoneError):
    """A one-time link is unknown, expired, already used or for another purpose."""


class TooManyAttemptsError(DialtoneError):
    """Too many failed sign-ins for this user or from this address lately
    (auth/attempts.py); ``retry_after``: seconds until the window turns."""

    def __init__(self, message: str = "too many failed attempts; try again later", *, retry_after: int = 900) -> None:
        super().__init__(message)
        self.retry_after = retry_after


class ServiceUnavailableError(DialtoneError):
    """AWS stayed throttled, failing or silent through every retry of one call
    (store/clients.py): the request may or may not have taken effect, nothing
    was wrong with it, and the caller should try again later (503, Retry-After)."""

    def __init__(self, message: str = "the service is busy; try again shortly", *, retry_after: int = 1) -> None:
        super().__init__(message)
        self.retry_after = retry_after
