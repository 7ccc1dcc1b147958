"""Integration/API (seeds 000 and 001): the user's own API key, made after
re-entering the password and a two-factor code and shown once; the IP
allow-list with "add IP"; and, for administrators, the expert view of the
API-only users (created here, given keys; another user's key is replaced only
with the primary data protection right)."""
from __future__ import annotations

from typing import TYPE_CHECKING, Any

from chalice import Response

from chalicelib.api.portal.dialect import FORMS, Visit, bp, serve
from chalicelib.domain import identity
from chalicelib.domain.errors import NotFoundError, PermissionDeniedError, TooManyAttemptsError, ValidationError
from chalicelib.lazy import lazy

if TYPE_CHECKING:
    from chalicelib.services.identity import users
else:
    users = lazy("chalicelib.services.identity.users")


def _page(visit: Visit, *, status: int = 200, new_key: str | None = None, key_owner: str | None = None,
          problem: str | None = None, notice: str | None = None) -> Response:
    me = visit.me
    # The user's own record, read afresh: the allow-list just changed, maybe.
    user = users.get_user(tenant=me.tenant_id, user_id=me.user_id)
    api_users: list[dict[str, Any]] = users.list_api_users(principal=me) if me.is_admin else []
    return visit.render(
        "api_access.html", status=status, title="Integration/API", new_key=new_key, key_owner=key_owner,
        problem=problem, notice=notice, api_root=visit.api_root, my_address=visit.source_ip or "",
        allowlist=user.get("ipAllowlist") or [], key_created=user.get("apiKeyCreatedAt"),
        api_only=user.get("apiOnly"), api_users=api_users,
        may_reset=identity.ROLE_DATA_PROTECTION_PRIMARY in me.roles)


@bp.route("/api", methods=["GET"])
def api_access() -> Response:
    return serve(lambda visit: _page(visit, notice=visit.query.get("done")))


@bp.route("/api/key", methods=["POST"], content_types=FORMS)
def generate_key() -> Response:
    def handle(visit: Visit) -> Response:
        try:
            key = users.generate_own_api_key(principal=visit.me, password=visit.form.get("password", ""),
                                             totp_code=visit.form.get("code", ""), source_ip=visit.source_ip)
        except TooManyAttemptsError as error:
            # Wrong passwords and codes count as failed sign-ins (auth/attempts.py).
            refused = _page(visit, status=429, problem=error.message)
            refused.headers["Retry-After"] = str(error.retry_after)
            return refused
        except PermissionDeniedError as error:
            return _page(visit, status=403, problem=error.message)
        # Answered with the page itself, not a redirect: the key is in this answer only.
        return _page(visit, new_key=key, key_owner=visit.me.username)
    return serve(handle)


def _me(visit: Visit) -> dict[str, Any]:
    return users.get_user(tenant=visit.me.tenant_id, user_id=visit.me.user_id)


def _set_allowlist(visit: Visit, entries: list[str]) -> None:
    users.set_allowlist(tenant=visit.me.tenant_id, user_id=visit.me.user_id, ips=entries)


@bp.route("/api/ips", methods=["POST"], content_types=FORMS)
def add_ip() -> Response:
    def handle(visit: Visit) -> Response:
        entry = visit.form.get("ip", "").strip()
        if not entry:
            raise ValidationError("enter an address or CIDR block", field="ip")
        current = list(_me(visit).get("ipAllowlist") or [])
        _set_allowlist(visit, current + [n for n in identity.parse_allowlist([entry]) if n not in current])
        return visit.redirect("/api", done=f"{entry} added")
    return serve(handle)


@bp.route("/api/ips/remove", methods=["POST"], content_types=FORMS)
def remove_ip() -> Response:
    def handle(visit: Visit) -> Response:
        entry = visit.form.get("ip", "")
        _set_allowlist(visit, [n for n in _me(visit).get("ipAllowlist") or [] if n != entry])
        return visit.redirect("/api", done=f"{entry} removed")
    return serve(handle)


@bp.route("/api/users", methods=["POST"], content_types=FORMS)
def create_api_user() -> Response:
    def handle(visit: Visit) -> Response:
        if not visit.me.is_admin:
            raise PermissionDeniedError("only administrators create API-only users")
        made = users.create_user(tenant=visit.me.tenant_id, username=visit.form.get("username", ""),
                                 api_only=True, can_write=visit.form.get("canWrite") == "on")
        return visit.redirect("/api", done=f"API-only user {made['username']} created; give it a key below")
    return serve(handle)


@bp.route("/api/users/{user_id}/key", methods=["POST"], content_types=FORMS)
def api_user_key(user_id: str) -> Response:
    def handle(visit: Visit) -> Response:
        me = visit.me
        # The right first, the user second: to anyone without it, an unknown
        # user id and a real one get the same answer.
        if not (me.is_admin or identity.ROLE_DATA_PROTECTION_PRIMARY in me.roles):
            raise PermissionDeniedError("only administrators give API-only users their keys")
        if not user_id.isdigit():
            raise NotFoundError(f"user {user_id} not found")
        target = users.get_user(tenant=me.tenant_id, user_id=int(user_id))
        action = "resetAPIKey" if target.get("apiKeyHash") else "issueAPIKey"
        _, key = users.api_key_action(principal=visit.me, user_id=int(user_id), name=action, params={})
        return _page(visit, new_key=key, key_owner=target["username"])
    return serve(handle)
