"""Domain errors -> the portal's error page: a status and a sentence a person
can act on. One table: the only place this surface decides status codes."""
from __future__ import annotations

from typing import TYPE_CHECKING

from chalice import Response

from chalicelib.domain import errors as e

if TYPE_CHECKING:
    from chalicelib.api.portal.dialect import Visit

TABLE: list[tuple[type[e.DialtoneError], int, str]] = [
    (e.ValidationError, 400, "That did not work"),
    (e.PaymentDeclinedError, 402, "The card was declined"),
    (e.InsufficientFundsError, 402, "Not enough funds"),
    (e.AuthenticationError, 401, "Please log in again"),
    (e.PermissionDeniedError, 403, "Not allowed"),
    (e.NotFoundError, 404, "Not found"),
    (e.NumberUnavailableError, 409, "Those numbers are no longer available"),
    (e.AlreadyExistsError, 409, "It already exists"),
    (e.InvalidStateError, 409, "Not possible now"),
    (e.ConcurrentUpdateError, 409, "Someone else changed it first"),
    (e.TooManyAttemptsError, 429, "Too many attempts"),
    (e.ServiceUnavailableError, 503, "Busy for a moment"),
]


def status_of(error: e.DialtoneError) -> tuple[int, str]:
    for kind, status, title in TABLE:
        if isinstance(error, kind):
            return status, title
    return 500, "Something went wrong"


def error_page(visit: "Visit", error: e.DialtoneError) -> Response:
    status, title = status_of(error)
    if status == 500:
        return internal_error(visit)
    return visit.render("error.html", status=status, title=title, message=error.message)


def forbidden(visit: "Visit") -> Response:
    # No session, or a form without this session's token: a cross-site
    # request or an expired page. Nothing was done.
    return visit.render("error.html", status=403, title="This form has expired",
                        message="The form did not carry this session's token. Nothing was changed; "
                                "open the page again and resend it.")


def internal_error(visit: "Visit") -> Response:
    return visit.render("error.html", status=500, title="Something went wrong",
                        message="The request failed unexpectedly. Nothing you can fix; try again later.")
