from __future__ import annotations


def test_login_and_me(voice, tenant):
    assert voice.tokens["expires_in"] == 3600 and voice.tokens["refresh_expires_in"] == 36000
    reply = voice.get("/userAccounts/me")
    assert reply.status_code == 200, reply.text
    assert reply.json["name"] == "Test Tenant" and len(reply.json["id"]) == 24
