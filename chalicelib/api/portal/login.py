"""Log in (username, password, TOTP code), enrol a second factor, log out,
and the static files every page links."""
from __future__ import annotations

from typing import TYPE_CHECKING

from chalice import Response

from chalicelib.api import http
from chalicelib.api.portal import views
from chalicelib.api.portal.dialect import FORMS, Visit, bp, serve
from chalicelib.domain.errors import AuthenticationError, TooManyAttemptsError
from chalicelib.lazy import lazy

if TYPE_CHECKING:
    from chalicelib.services.identity import portal as sessions
else:
    sessions = lazy("chalicelib.services.identity.portal")

@bp.route("/", methods=["GET"])
def home() -> Response:
    return serve(lambda visit: visit.redirect("/dashboard" if visit.principal else "/login"), public=True)

@bp.route("/static/{name}", methods=["GET"])
def static(name: str) -> Response:
    return views.static_file(name, http.query(bp.current_request).get("v"))

def _login_form(visit: Visit, status: int = 200, problem: str | None = None) -> Response:
    # The form's CSRF token is the login cookie's (dialect.Visit.login_token):
    # showing the form stores nothing, so bots fetching it do not grow the table.
    return visit.render("login.html", status=status, csrf=visit.login_token(), title="Log in", problem=problem,
                        username=visit.form.get("username"))

@bp.route("/login", methods=["GET"])
def login_page() -> Response:
    def handle(visit: Visit) -> Response:
        if visit.principal is not None:
            return visit.redirect("/dashboard")
        return _login_form(visit)
    return serve(handle, public=True)

@bp.route("/login", methods=["POST"], content_types=FORMS)
def login() -> Response:
    def handle(visit: Visit) -> Response:
        try:
            visit.new_session = sessions.login(
                session=visit.session, username=visit.form.get("username", ""),
                password=visit.form.get("password", ""), code=visit.form.get("code", ""), source_ip=visit.source_ip)
        except TooManyAttemptsError as error:
            refused = _login_form(visit, 429, error.message)
            refused.headers["Retry-After"] = str(error.retry_after)
            return refused
        except AuthenticationError as error:
            return _login_form(visit, 401, error.message)
        return visit.redirect("/enrol" if visit.new_session.state == "enrol" else "/dashboard")
    return serve(handle, public=True, login_form=True)

@bp.route("/enrol", methods=["GET"])
def enrol_page() -> Response:
    def handle(visit: Visit) -> Response:
        if visit.session is None or visit.session.state != "enrol" or not visit.session.pending_secret:
            return visit.redirect("/login")
        return _enrol_form(visit, secret=sessions.reveal_pending_secret(visit.session))
    return serve(handle, public=True)

def _enrol_form(visit: Visit, status: int = 200, problem: str | None = None, secret: str | None = None) -> Response:
    """The code form; with ``secret`` (its first showing only), the secret and its QR code."""
    qr = None
    if secret is not None:
        import segno  # only an enrolment page draws a QR code

        assert visit.session is not None
        uri = f"otpauth://totp/Dialtone:{visit.session.user_id}?secret={secret}&issuer=Dialtone"
        qr = segno.make(uri, error="m").svg_data_uri(scale=5, border=2)
    return visit.render("enrol.html", status=status, title="Two-factor login", qr=qr, secret=secret, problem=problem)

@bp.route("/enrol", methods=["POST"], content_types=FORMS)
def enrol() -> Response:
    def handle(visit: Visit) -> Response:
        assert visit.session is not None
        if visit.session.state != "enrol":
            return visit.redirect("/login")
        try:
            visit.new_session = sessions.enrol(session=visit.session, code=visit.form.get("code", ""),
                                               source_ip=visit.source_ip)
        except (AuthenticationError, TooManyAttemptsError) as error:
            return _enrol_form(visit, 401, error.message)
        return visit.redirect("/dashboard")
    return serve(handle, public=True)

@bp.route("/logout", methods=["POST"], content_types=FORMS)
def logout() -> Response:
    def handle(visit: Visit) -> Response:
        if visit.session is not None:
            sessions.end(visit.session.id)
        visit.drop_session = True
        return visit.redirect("/login")
    return serve(handle, public=True)

