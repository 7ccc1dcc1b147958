"""Actions: POST /{resource}/{id}?action=NAME, the seed's examples and error codes."""
import pytest

from chalicelib.services.identity import users
from tests.support.surfaces.platform import Api


def customer(api, **fields):
    response = api.post("/customers", {"customerName": "Example Corp", **fields})
    assert response.status_code == 201
    return response.json


def test_seed_generate_pin_example(api):
    created = customer(api)
    response = api.post(f"/customers/{created['id']}?action=generatePIN", {})
    assert response.status_code == 200
    pin = response.json["pin"]
    assert len(pin) == 6 and pin.isdigit()
    assert api.get(f"/customers/{created['id']}").json["pin"] == pin
    again = api.post(f"/customers/{created['id']}?action=generatePIN", {})
    assert again.status_code == 200 and again.json["pin"].isdigit()


def test_seed_drop_example(api):
    created = customer(api)
    response = api.post(f"/customers/{created['id']}?action=drop",
                        {"status": "Ex-Customer", "dateDrop": "2025-01-24",
                         "statusReason": "Customer requested cancellation"})
    assert response.status_code == 200, response.body
    body = response.json
    assert body["id"] == created["id"] and body["customerName"] == "Example Corp"
    assert body["statusID"] == 2 and body["status"] == "Ex-Customer"
    assert body["statusReason"] == "Customer requested cancellation" and body["dateDrop"] == "2025-01-24"
    assert body == api.get(f"/customers/{created['id']}").json  # "exactly as a GET request would"


def test_seed_unknown_action_error(api):
    created = customer(api)
    response = api.post(f"/customers/{created['id']}?action=invalidAction", {})
    assert response.status_code == 400
    assert response.json["error"] == "Invalid Action" and response.json["error_code"] == 400501
    assert "The action 'invalidAction' is not recognised for this resource" in response.json["hint"]
    assert api.get(f"/customers/{created['id']}").json == created


def test_missing_parameter_is_400503_and_changes_nothing(api):
    created = customer(api)
    response = api.post(f"/customers/{created['id']}?action=drop", {"statusReason": "x"})
    assert response.status_code == 400 and response.json["error_code"] == 400503
    assert "dateDrop" in response.json["hint"]
    assert api.get(f"/customers/{created['id']}").json == created


@pytest.mark.parametrize("body", [{"dateDrop": "24/01/2025"}, {"dateDrop": "2025-01-24", "status": "Customer"},
                                  {"dateDrop": "2025-01-24", "colour": "red"}])
def test_failed_action_is_400502(api, body):
    created = customer(api)
    response = api.post(f"/customers/{created['id']}?action=drop", body)
    assert response.status_code == 400 and response.json["error_code"] == 400502, response.body
    assert api.get(f"/customers/{created['id']}").json == created


def test_wrong_state_is_409xxx(api):
    created = customer(api)
    response = api.post(f"/customers/{created['id']}?action=reinstate", {})
    assert response.status_code == 409 and response.json["error_code"] == 409003
    assert "Customer" in response.json["hint"]
    api.post(f"/customers/{created['id']}?action=drop", {"dateDrop": "2025-01-24"})
    dropped_again = api.post(f"/customers/{created['id']}?action=drop", {"dateDrop": "2025-01-25"})
    assert dropped_again.status_code == 409
    reinstated = api.post(f"/customers/{created['id']}?action=reinstate", {})
    assert reinstated.status_code == 200 and reinstated.json["statusID"] == 1 and reinstated.json["dateDrop"] is None


def test_permission_beyond_write_is_403xxx(client, api, tenant):
    t = tenant["tenant"]["id"]
    manager = users.create_user(tenant=t, username=f"mgr-{t}", api_only=True, customer_access="manager")
    managed = customer(api, accountManagerID=manager["id"])
    as_manager = Api(client, users.issue_api_key(tenant=t, user_id=manager["id"]))
    refused = as_manager.post(f"/customers/{managed['id']}?action=drop", {"dateDrop": "2025-01-24"})
    assert refused.status_code == 403 and refused.json["error_code"] == 403002
    assert as_manager.post(f"/customers/{managed['id']}?action=generatePIN", {}).status_code == 200
    reader = users.create_user(tenant=t, username=f"ro-{t}", api_only=True, can_write=False)
    as_reader = Api(client, users.issue_api_key(tenant=t, user_id=reader["id"]))
    assert as_reader.post(f"/customers/{managed['id']}?action=generatePIN", {}).json["error_code"] == 403001


def test_action_on_other_tenants_customer_is_404(client, api):
    created = customer(api)
    other = Api(client, users.create_tenant(name="Other")["user"]["api_key"])
    assert other.post(f"/customers/{created['id']}?action=generatePIN", {}).status_code == 404
    assert api.get(f"/customers/{created['id']}").json["pin"] is None


def test_service_approval_cycle(api):
    owner = customer(api)
    service = api.post(f"/customers/{owner['id']}/services", {"name": "Trunk"}).json
    approved = api.post(f"/services/{service['id']}?action=approve", {"dateApproved": "2025-02-01"})
    assert approved.json["statusID"] == 2 and approved.json["dateApproved"] == "2025-02-01"
    assert api.post(f"/services/{service['id']}?action=approve", {}).json["error_code"] == 409003
    unapproved = api.post(f"/services/{service['id']}?action=unapprove", {})
    assert unapproved.json["status"] == "Pending Approval" and unapproved.json["dateApproved"] is None
    cancelled = api.post(f"/services/{service['id']}?action=cancel", {"statusReason": "no longer needed"})
    assert cancelled.json["status"] == "Cancelled" and cancelled.json["dateCancelled"]
    assert api.post(f"/services/{service['id']}?action=cancel", {}).status_code == 409
    assert api.post(f"/services/{service['id']}?action=reinstate", {}).json["status"] == "Active"


def test_feature_drop_needs_a_date(api):
    owner = customer(api)
    feature = api.post(f"/customers/{owner['id']}/features", {"name": "Recording"}).json
    assert api.post(f"/features/{feature['id']}?action=drop", {}).json["error_code"] == 400503
    dropped = api.post(f"/features/{feature['id']}?action=drop", {"dateDrop": "2025-03-01"})
    assert dropped.json["status"] == "Dropped" and dropped.json["dateDrop"] == "2025-03-01"
    assert api.post(f"/features/{feature['id']}?action=approve", {}).json["error_code"] == 400501


def test_notes_have_no_actions(api):
    owner = customer(api)
    note = api.post(f"/customers/{owner['id']}/notes", {"text": "hello"}).json
    response = api.post(f"/notes/{note['id']}?action=drop", {})
    assert response.status_code == 400 and response.json["error_code"] == 400501
    assert api.post(f"/notes/{note['id']}", {}).json["error_code"] == 400501


def test_action_body_may_be_empty_but_not_malformed(api):
    created = customer(api)
    assert api.call("POST", f"/customers/{created['id']}?action=generatePIN", raw="").status_code == 200
    assert api.call("POST", f"/customers/{created['id']}?action=generatePIN", raw="{").json["error_code"] == 400001
