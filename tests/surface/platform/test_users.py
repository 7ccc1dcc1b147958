"""Users read their own record; API keys by action with password + TOTP,
admin-issued keys for API-only users, resets by the data-protection right."""
import pyotp

from chalicelib.domain import identity
from chalicelib.services.identity import users
from tests.support.surfaces.platform import Api


def test_read_own_user_only(api, tenant):
    me = api.get("/users/me")
    assert me.status_code == 200 and me.json["id"] == tenant["user"]["id"]
    assert me.json["hasAPIKey"] is True and "apiKeyHash" not in me.body.decode() and "totp" not in me.body.decode()
    assert api.get(f"/users/{tenant['user']['id']}").json == me.json
    other = users.create_user(tenant=tenant["tenant"]["id"], username=f"o-{tenant['tenant']['id']}")
    assert api.get(f"/users/{other['id']}").status_code == 404
    assert [u["id"] for u in api.get("/users").json] == [tenant["user"]["id"]]


def test_generate_own_key_needs_password_and_totp(client, api, tenant):
    me = tenant["user"]
    code = pyotp.TOTP(me["totp_secret"]).now()
    missing = api.post("/users/me?action=generateAPIKey", {"password": me["password"]})
    assert missing.status_code == 400 and missing.json["error_code"] == 400503
    wrong = api.post("/users/me?action=generateAPIKey", {"password": "nope", "totpCode": code})
    assert wrong.status_code == 403
    bad_code = api.post("/users/me?action=generateAPIKey", {"password": me["password"], "totpCode": "000000"})
    assert bad_code.status_code == 403
    assert api.get("/users/me").status_code == 200  # failed attempts revoke nothing
    made = api.post("/users/me?action=generateAPIKey", {"password": me["password"], "totpCode": code})
    assert made.status_code == 200 and made.json["apiKey"].startswith("dtk_")
    assert made.headers["Cache-Control"] == "no-store"
    assert api.get("/users/me").status_code == 401  # one key per user: the old one is revoked
    fresh = Api(client, made.json["apiKey"])
    assert fresh.get("/users/me").status_code == 200
    assert "apiKey" not in fresh.get("/users/me").json  # shown once


def test_api_only_users_get_keys_from_an_admin(client, api, tenant):
    t = tenant["tenant"]["id"]
    robot = users.create_user(tenant=t, username=f"crm-{t}", api_only=True)
    issued = api.post(f"/users/{robot['id']}?action=issueAPIKey", {})
    assert issued.status_code == 200, issued.body
    as_robot = Api(client, issued.json["apiKey"])
    assert as_robot.get("/users/me").json["apiOnly"] is True
    own = as_robot.post("/users/me?action=generateAPIKey", {"password": "x", "totpCode": "123456"})
    assert own.status_code == 403
    again = api.post(f"/users/{robot['id']}?action=issueAPIKey", {})
    assert again.status_code == 409 and again.json["error_code"] == 409003


def test_only_primary_data_protection_resets_other_keys(client, api, tenant):
    t = tenant["tenant"]["id"]
    robot = users.create_user(tenant=t, username=f"r-{t}", api_only=True)
    robot_key = users.issue_api_key(tenant=t, user_id=robot["id"])
    admin_only = users.create_user(tenant=t, username=f"a-{t}", api_only=True, roles=[identity.ROLE_ADMIN])
    as_admin = Api(client, users.issue_api_key(tenant=t, user_id=admin_only["id"]))
    refused = as_admin.post(f"/users/{robot['id']}?action=resetAPIKey", {})
    assert refused.status_code == 403 and refused.json["error_code"] == 403002
    assert Api(client, robot_key).get("/users/me").status_code == 200
    reset = api.post(f"/users/{robot['id']}?action=resetAPIKey", {})  # the tenant's first user holds the right
    assert reset.status_code == 200
    assert Api(client, robot_key).get("/users/me").status_code == 401
    assert Api(client, reset.json["apiKey"]).get("/users/me").status_code == 200
    assert api.post(f"/users/{robot['id']}?action=explode", {}).json["error_code"] == 400501


def test_requests_are_listable(client, api, tenant):
    t = tenant["tenant"]["id"]
    api.get("/customers")
    robot = users.create_user(tenant=t, username=f"log-{t}", api_only=True)
    as_robot = Api(client, users.issue_api_key(tenant=t, user_id=robot["id"]))
    as_robot.get("/users/me")
    mine = as_robot.get("/requestLogs").json
    assert {e["userID"] for e in mine} == {robot["id"]} and mine[0]["path"].endswith("/users/me")
    everything = api.get("/requestLogs?limit=10").json
    assert {tenant["user"]["id"], robot["id"]} <= {e["userID"] for e in everything}
    assert any(e["path"].endswith("/customers") and e["status"] == 200 for e in everything)


def test_a_replayed_totp_code_is_refused(client, api, tenant):
    me = tenant["user"]
    code = pyotp.TOTP(me["totp_secret"]).now()
    made = api.post("/users/me?action=generateAPIKey", {"password": me["password"], "totpCode": code})
    assert made.status_code == 200, made.body
    fresh = Api(client, made.json["apiKey"])
    replay = fresh.post("/users/me?action=generateAPIKey", {"password": me["password"], "totpCode": code})
    assert replay.status_code == 403 and "already been used" in replay.json["hint"]
    assert fresh.get("/users/me").status_code == 200  # the refused replay revoked nothing
