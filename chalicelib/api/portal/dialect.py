"""The portal's dialect: HTML pages for people in a browser, mounted at /portal.

Credential: a session cookie (HttpOnly, SameSite=Lax, Secure outside the
local and test stages) naming a server-side session record
(services/identity/portal.py). Every POST carries the session's CSRF token
in a form field; without it the answer is 403 and nothing runs. The login
form, shown before there is a session, carries a double-submit token instead:
the same random value in a cookie of its own and in the form, so a visitor
(or a bot) costs no stored item. Forms are
urlencoded (or multipart) bodies; answers are HTML, or 303 redirects after a
successful POST so that a reload never repeats it.
"""
from __future__ import annotations

import hmac
import logging
import re
import secrets
import time
from dataclasses import dataclass, field
from http.cookies import SimpleCookie
from typing import TYPE_CHECKING, Any, Callable
from urllib.parse import quote, urlencode

from chalice import Blueprint, Response
from chalice.app import Request

from chalicelib import settings
from chalicelib.api import http
from chalicelib.api.portal import errors
from chalicelib.domain.errors import DialtoneError, PermissionDeniedError
from chalicelib.domain.identity import Principal
from chalicelib.lazy import lazy

if TYPE_CHECKING:
    from chalicelib.api.portal import views
    from chalicelib.services.common import audit
    from chalicelib.services.identity import portal as sessions
else:
    views = lazy("chalicelib.api.portal.views")
    audit = lazy("chalicelib.services.common.audit")
    sessions = lazy("chalicelib.services.identity.portal")

bp = Blueprint(__name__)
FORMS = [http.FORM, http.MULTIPART]
COOKIE = "dialtone_portal"
LOGIN_COOKIE = "dialtone_login"
_TOKEN = re.compile(r"[A-Za-z0-9_-]{43}")  # secrets.token_urlsafe(32)
_log = logging.getLogger(__name__)

# No inline script or style anywhere: the copy button's script is a file of
# ours, QR codes and charts are images or inline SVG elements.
SECURITY_HEADERS = {
    "Content-Security-Policy": ("default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
                                "form-action 'self'; frame-ancestors 'none'; base-uri 'none'"),
    "X-Frame-Options": "DENY",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
    # Pages show balances and, once, a new API key: never kept by a cache.
    "Cache-Control": "no-store",
}


@dataclass
class Visit:
    """One request to a page: who is visiting, the form they sent, and what
    the answer should do to their session cookie."""

    request: Request
    base: str
    session: "sessions.Session | None"
    form: dict[str, str] = field(default_factory=dict)
    principal: Principal | None = None
    new_session: "sessions.Session | None" = None
    drop_session: bool = False
    new_login_token: str | None = None

    @property
    def query(self) -> dict[str, str]:
        return http.query(self.request)

    @property
    def source_ip(self) -> str | None:
        return http.source_ip(self.request)

    @property
    def me(self) -> Principal:
        if self.principal is None:
            raise PermissionDeniedError("log in first")
        return self.principal

    @property
    def api_root(self) -> str:
        """Where the APIs are, as the browser reached us (for the URLs a page shows to copy)."""
        headers = self.request.headers
        scheme = headers.get("x-forwarded-proto") or ("http" if settings.stage() in ("local", "test") else "https")
        return f"{scheme}://{headers.get('host', 'localhost')}{self.base[:-len('/portal')]}"

    def url(self, path: str, **params: Any) -> str:
        query = urlencode({k: v for k, v in params.items() if v not in (None, "")})
        return self.base + path + (f"?{query}" if query else "")

    def redirect(self, path: str, **params: Any) -> Response:
        return Response(body="", status_code=303, headers={"Location": self.url(path, **params)})

    def login_token(self) -> str:
        """The login form's CSRF token (double submit): the visitor's login
        cookie, or a new one that the answer sets. Nothing is stored: a
        cross-site POST carries no SameSite=Lax cookie, and another site can
        neither read this one (HttpOnly) nor the page, so it cannot send both."""
        existing = _cookie(self.request, LOGIN_COOKIE)
        if existing and _TOKEN.fullmatch(existing):
            return existing
        if self.new_login_token is None:
            self.new_login_token = secrets.token_urlsafe(32)
        return self.new_login_token

    def render(self, template: str, status: int = 200, *, csrf: str | None = None, **context: Any) -> Response:
        session = self.new_session or self.session
        if csrf is None:
            csrf = session.csrf if session else ""
        return views.page(template, status=status, base=self.base, csrf=csrf, principal=self.principal, **context)


Handler = Callable[[Visit], Response]


def _base(request: Request) -> str:
    # Deployed, API Gateway's path starts with the stage (/dev/portal/...); locally it does not.
    path = str(request.context.get("path") or "")
    at = path.find("/portal")
    return (path[:at] if at > 0 else "") + "/portal"


def _cookie(request: Request, name: str = COOKIE) -> str | None:
    jar: SimpleCookie = SimpleCookie()
    try:
        jar.load(request.headers.get("cookie") or "")
    except Exception:  # a malformed Cookie header is no session
        return None
    morsel = jar.get(name)
    return morsel.value if morsel else None


def _set_cookie(visit: Visit, response: Response) -> None:
    secure = "" if settings.stage() in ("local", "test") else "; Secure"
    # One cookie per answer: the login cookie is only ever new on a login
    # form shown to a visitor without one, never with a session change.
    if visit.new_session is not None:
        response.headers["Set-Cookie"] = (f"{COOKIE}={visit.new_session.id}; Path={quote(visit.base)}; HttpOnly; "
                                          f"SameSite=Lax{secure}")
    elif visit.drop_session:
        response.headers["Set-Cookie"] = f"{COOKIE}=; Path={quote(visit.base)}; Max-Age=0; HttpOnly; SameSite=Lax{secure}"
    elif visit.new_login_token is not None:
        response.headers["Set-Cookie"] = (f"{LOGIN_COOKIE}={visit.new_login_token}; Path={quote(visit.base)}; "
                                          f"HttpOnly; SameSite=Lax{secure}")


def _read_form(request: Request) -> dict[str, str]:
    raw = http.raw_bytes(request)
    if http.media_type(request) == http.MULTIPART:
        return {name: part.text() for name, part in http.multipart(request).items()}
    return http.form(raw) if raw.strip() else {}


def serve(handler: Handler, *, public: bool = False, login_form: bool = False) -> Response:
    """Run a page: resolve the session (a page that needs a login redirects
    there without one), check the CSRF token of a POST (``login_form``: the
    login cookie's double-submit token, not the session's), map domain errors
    to an error page, write the audit record, add the security headers."""
    request = bp.current_request
    started = time.perf_counter()
    token = audit.begin()
    visit = Visit(request=request, base=_base(request), session=None)
    response: Response | None = None
    try:
        response = _run(visit, handler, public, login_form)
    except DialtoneError as error:
        response = errors.error_page(visit, error)
    except Exception as error:
        response = http.unexpected(request, error, envelope=lambda busy: errors.error_page(visit, busy),
                                   internal=lambda: errors.internal_error(visit))
    finally:
        if visit.principal is not None:
            http.write_audit(request, visit.principal, response.status_code if response is not None else 500, "portal", started)
        audit.end(token)
    return _finish(visit, response)


def _run(visit: Visit, handler: Handler, public: bool, login_form: bool) -> Response:
    request = visit.request
    visit.session = sessions.resolve(_cookie(request))
    if request.method == "POST":
        visit.form = _read_form(request)
        given = visit.form.get("csrf") or ""
        expected = _cookie(request, LOGIN_COOKIE) if login_form else visit.session.csrf if visit.session else None
        # Checked before anything else runs: a forged POST changes nothing.
        if not expected or not given or not hmac.compare_digest(given.encode(), expected.encode()):
            return errors.forbidden(visit)
    if visit.session is not None and visit.session.logged_in:
        visit.principal = sessions.principal_of(visit.session)
    elif not public:
        return visit.redirect("/login")
    return handler(visit)


def _finish(visit: Visit, response: Response) -> Response:
    for name, value in SECURITY_HEADERS.items():
        response.headers.setdefault(name, value)
    _set_cookie(visit, response)
    return response
