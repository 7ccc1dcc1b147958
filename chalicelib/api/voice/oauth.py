"""Authentication: POST /oauth/authorize (password grant, refresh), the JWKS.

The token endpoint answers errors as OAuth 2.0 does (RFC 6749 §5.2:
``{"error": "invalid_grant", "error_description": ...}``), with 401 for wrong
credentials or a bad refresh token, 400 for a malformed request, 415 for a
body that is not form-urlencoded and 429 when throttled. Never cached.
"""
from __future__ import annotations

from typing import TYPE_CHECKING

from chalice import Response
from chalice.app import Request

from chalicelib.api import http
from chalicelib.api.voice import dialect
from chalicelib.api.voice.dialect import bp
from chalicelib.domain.errors import AuthenticationError, DialtoneError, TooManyAttemptsError, ValidationError
from chalicelib.lazy import lazy

if TYPE_CHECKING:
    from chalicelib.auth import access_tokens
    from chalicelib.services.voice import oauth
else:
    access_tokens = lazy("chalicelib.auth.access_tokens")
    oauth = lazy("chalicelib.services.voice.oauth")

NO_STORE = {"Cache-Control": "no-store", "Pragma": "no-cache"}


def _oauth_error(status: int, code: str, description: str, headers: dict[str, str] | None = None) -> Response:
    return http.json_response({"error": code, "error_description": description}, status, {**NO_STORE, **(headers or {})})


@bp.route("/oauth/authorize", methods=["POST"], content_types=dialect.ANY_BODY)
def authorize() -> Response:
    def handle(request: Request) -> Response:
        try:
            form = dialect.form_body(request)
            if form.get("token"):
                if "username" in form or "password" in form:
                    raise ValidationError("send either token or username and password", field="token")
                tokens = oauth.refresh_grant(token=form["token"])
            elif form.get("username") and "password" in form:
                tokens = oauth.password_grant(username=form["username"], password=form["password"],
                                              source_ip=http.source_ip(request))
            else:
                raise ValidationError("username and password, or token, are required", field="username")
        except dialect.UnsupportedMediaTypeError as error:
            return _oauth_error(415, "invalid_request", error.message)
        except ValidationError as error:
            return _oauth_error(400, "invalid_request", error.message)
        except AuthenticationError as error:
            return _oauth_error(401, "invalid_grant", error.message,
                                {"WWW-Authenticate": 'Bearer realm="dialtone"'})
        except TooManyAttemptsError as error:
            return _oauth_error(429, "slow_down", error.message, {"Retry-After": str(error.retry_after)})
        except DialtoneError as error:
            return _oauth_error(400, "invalid_request", error.message)
        return http.json_response(tokens, 200, NO_STORE)
    return dialect.serve_public(handle)


@bp.route("/oauth/jwks", methods=["GET"])
def jwks() -> Response:
    # Public keys for offline verification (RFC 7517); clients may cache them for an hour.
    return dialect.serve_public(lambda request: http.json_response(
        access_tokens.jwks(), headers={"Cache-Control": "public, max-age=3600"}))


@bp.route("/.well-known/jwks.json", methods=["GET"])
def well_known_jwks() -> Response:
    return jwks()
