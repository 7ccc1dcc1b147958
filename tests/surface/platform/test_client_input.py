"""Client input that once reached a server error or was misunderstood (issue
14): parent ids that name nothing, times at the ends of the calendar, the
seed's "offest" and an unencoded '+' in updatedSince."""
import urllib.parse

import pytest

# Each with a body it would accept under a parent that exists (None: GET only).
PARENTS = {
    "customers/{}/notes": {"text": "x"}, "customers/{}/services": {"name": "x"},
    "customers/{}/features": {"name": "x"}, "customers/{}/numbers": {"number": "2062190000"},
    "customers/{}/payments": None, "customers/{}/invoices": None,
    "notes/{}/noteAttachments": {"fileName": "a.txt", "_fileContent": "aGk="},
}
BAD_IDS = ["abc", "-1", "1.5", "9" * 13, "99999999999999999999999", "%C2%B2", "0x10", "1e3", "%20"]


@pytest.mark.parametrize("template", PARENTS)
def test_a_parent_id_that_names_nothing_is_404_in_the_envelope(api, template):
    for bad in BAD_IDS:
        path = "/" + template.format(bad)
        calls = [api.get(path)]
        if PARENTS[template] is not None:
            calls.append(api.post(path, PARENTS[template]))
        for response in calls:
            assert response.status_code == 404, (path, response.body)
            assert response.json["error_code"] == 404001, (path, response.body)


def _logs(api, **params):
    return api.get("/requestLogs?" + urllib.parse.urlencode(params))


@pytest.mark.parametrize("since", ["0001-01-01T00:00:00Z", "0001-01-01", "1000-01-01T00:00:00Z",
                                   "9999-12-31T23:59:59Z", "9999-12-31T23:59:59.999999+00:00"])
def test_request_logs_take_any_year_from_0001_to_9999(api, since):
    api.get("/customers")  # something to log
    response = _logs(api, since=since)
    assert response.status_code == 200, response.body
    assert isinstance(response.json, list)
    for until in ("0001-01-01T00:00:00Z", "0001-01-03", "9999-12-31T23:59:59Z"):
        response = _logs(api, until=until)
        assert response.status_code == 200, (until, response.body)
        response = _logs(api, since=since, until=until)
        assert response.status_code == 200, (since, until, response.body)


def test_request_logs_since_the_beginning_includes_recent_requests(api):
    api.get("/customers")
    assert any(e["path"].endswith("/customers") for e in _logs(api, since="0001-01-01T00:00:00Z").json)


@pytest.mark.parametrize("bad", ["0000-01-01T00:00:00Z", "10000-01-01T00:00:00Z", "0001-01-01T00:00:00+01:00",
                                 "9999-12-31T23:59:59-01:00", "2024-13-01", "2024-02-30", "yesterday", "2024-01-01T25:00",
                                 "2024-01-01T00:00:00ZZ", "+00:00"])
def test_request_logs_refuse_times_outside_the_calendar(api, bad):
    for name in ("since", "until"):
        response = _logs(api, **{name: bad})
        assert (response.status_code, response.json["error_code"]) == (400, 400001), (name, bad, response.body)


def test_the_seeds_offest_spelling_is_offset(api):
    owner = api.post("/customers", {"customerName": "Acme"}).json
    ids = [api.post(f"/customers/{owner['id']}/notes", {"text": f"n{n}"}).json["id"] for n in range(4)]
    base = f"/customers/{owner['id']}/notes"
    assert [n["id"] for n in api.get(f"{base}?limit=2&offest=1").json] == ids[1:3]
    assert [n["id"] for n in api.get(f"{base}?limit=2&offset=1&offest=1").json] == ids[1:3]
    assert api.get(f"{base}?offest=-1").status_code == 400
    assert api.get(f"{base}?offset=1&offest=2").json["error_code"] == 400001


def test_an_unencoded_plus_in_updated_since_is_an_offset(api):
    owner = api.post("/customers", {"customerName": "Acme"}).json
    note = api.post(f"/customers/{owner['id']}/notes", {"text": "n"}).json
    for spelled in ("2000-01-01T00:00:00+00:00", "2000-01-01T00:00:00 00:00", "2000-01-01T05:30:00 05:30",
                    "2000-01-01T00:00:00.000 0000"):
        # The client wrote '+' into the URL as is: a query string reads it as a space.
        response = api.get("/notes?updatedSince=" + spelled.replace(" ", "+"))
        assert response.status_code == 200, (spelled, response.body)
        assert [n["id"] for n in response.json] == [note["id"]], spelled
    assert api.get("/notes?updatedSince=9999-01-01T00:00:00+00:00").json == []
    # A plain space between date and time still separates them.
    assert api.get("/notes?updatedSince=2000-01-01+00:00:00").status_code == 200
