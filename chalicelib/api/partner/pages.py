"""The pages the partner API's e-mails link to, for the person who clicks
the link in a browser: ``/partner/confirm-email`` and ``/partner/reset-password``
(``?account=...&code=...``, made by services/identity/signup.py).

GET shows a form (or why the link cannot be used) and changes nothing, so a
mail scanner that fetches the link does not use it up; POST, from that form,
does the action and shows the outcome. The code is single use. Plain HTML,
no JavaScript, no API key: the code in the link is the credential.
"""
from __future__ import annotations

import html
from typing import TYPE_CHECKING, Callable

from chalice import Blueprint, Response

from chalicelib.api import http
from chalicelib.domain.errors import DialtoneError, LinkInvalidError
from chalicelib.lazy import lazy

if TYPE_CHECKING:
    from chalicelib.services.identity import links, signup
else:
    links = lazy("chalicelib.services.identity.links")
    signup = lazy("chalicelib.services.identity.signup")

pages = Blueprint(__name__)
# A browser's GET has no Content-Type, which Chalice reads as application/json: listed so it is not a 415.
FORM_TYPES = ["application/x-www-form-urlencoded", "application/json"]
HEADERS = {
    "Content-Type": "text/html; charset=utf-8",
    # The code is in the URL: never cached, never sent on as a referrer, never framed.
    "Cache-Control": "no-store",
    "Referrer-Policy": "no-referrer",
    "X-Frame-Options": "DENY",
    "Content-Security-Policy": "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'; "
                               "frame-ancestors 'none'",
}
USED = "This link is invalid, has expired or has already been used. Ask for a new one."


def _page(title: str, body: str, status: int = 200) -> Response:
    text = (f"<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\">"
            f"<meta name=\"viewport\" content=\"width=device-width\"><title>{html.escape(title)}</title>"
            "<style>body{font-family:sans-serif;max-width:28em;margin:3em auto;padding:0 1em}"
            "label,input,button{display:block;margin:.5em 0}</style></head>"
            f"<body><h1>{html.escape(title)}</h1>{body}</body></html>")
    return Response(body=text, status_code=status, headers=dict(HEADERS))


def _message(text: str) -> str:
    return f"<p>{html.escape(text)}</p>"


def _form(action: str, code: str, fields: str, button: str) -> str:
    # A relative action: the same path, wherever the API is mounted (a stage prefix included).
    return (f"<form method=\"post\" action=\"{html.escape(action)}\">"
            f"<input type=\"hidden\" name=\"code\" value=\"{html.escape(code)}\">{fields}"
            f"<button type=\"submit\">{html.escape(button)}</button></form>")


def _posted_code() -> tuple[str, dict[str, str]]:
    request = pages.current_request
    fields = http.form(http.raw_bytes(request)) if request.method == "POST" else {}
    code = fields.get("code") or http.query(request).get("code") or ""
    return code, fields


def _serve(title: str, handle: Callable[[str, dict[str, str]], Response]) -> Response:
    try:
        code, fields = _posted_code()
        return handle(code, fields)
    except LinkInvalidError:
        return _page(title, _message(USED), 400)
    except DialtoneError as error:
        return _page(title, _message(error.message), 400)


PASSWORD_FIELDS = ("<label>New password <input type=\"password\" name=\"password\" autocomplete=\"new-password\" "
                   "minlength=\"{min}\" required></label><label>The same again <input type=\"password\" "
                   "name=\"password_again\" autocomplete=\"new-password\" required></label>")


@pages.route("/confirm-email", methods=["GET", "POST"], content_types=FORM_TYPES)
def confirm_email_page() -> Response:
    title = "Confirm your e-mail address"

    def handle(code: str, fields: dict[str, str]) -> Response:
        if pages.current_request.method == "GET":
            links.check(token=code, purpose=links.CONFIRM_EMAIL)
            return _page(title, _form("confirm-email", code, "", "Confirm my e-mail address"))
        signup.confirm_email_link(code=code)
        return _page(title, _message("Your e-mail address is confirmed. You can close this page."))
    return _serve(title, handle)


@pages.route("/reset-password", methods=["GET", "POST"], content_types=FORM_TYPES)
def reset_password_page() -> Response:
    title = "Choose a new password"

    def form(code: str, note: str = "", status: int = 200) -> Response:
        fields = PASSWORD_FIELDS.format(min=signup.MIN_PASSWORD)
        return _page(title, (_message(note) if note else "") + _form("reset-password", code, fields,
                                                                      "Change my password"), status)

    def handle(code: str, fields: dict[str, str]) -> Response:
        links.check(token=code, purpose=links.RESET_PASSWORD)
        if pages.current_request.method == "GET":
            return form(code)
        password = fields.get("password") or ""
        if password != fields.get("password_again"):
            return form(code, "The two passwords differ: type the same one twice.", 400)
        if len(password) < signup.MIN_PASSWORD:
            return form(code, f"The password must have at least {signup.MIN_PASSWORD} characters.", 400)
        signup.reset_password(code=code, password=password)
        return _page(title, _message("Your password has been changed. You can close this page."))
    return _serve(title, handle)
