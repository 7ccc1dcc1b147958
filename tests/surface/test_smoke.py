import json


def test_create_then_get(client, tenant):
    key = tenant["user"]["api_key"]
    h = {"Authorization": f"Bearer {key}", "Content-Type": "application/json"}
    r = client.get("/backend/api/v1/customers", headers=h)
    assert r.status_code == 200, r.body
    assert json.loads(r.body) == []
    r = client.post("/backend/api/v1/customers", headers=h, body=json.dumps({"customerName": "Acme", "creditLimit": -55.5}))
    assert r.status_code == 201, r.body
    c = json.loads(r.body)
    r = client.get(f"/backend/api/v1/customers/{c['id']}", headers=h)
    assert json.loads(r.body)["customerName"] == "Acme", r.body
