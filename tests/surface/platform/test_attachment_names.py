"""Attachment file names (issue 14): whatever name a client sends, the stored
name is a safe display name (no path, no CR/LF) and every download answers a
Content-Disposition (RFC 6266) with an ASCII filename and the exact name in
filename*; names stored before that rule existed download too."""
import base64
import json
import re
import urllib.parse

import pytest

from chalicelib.services.customers import attachments
from chalicelib.store.dynamo import entities

DATA = b"hello, world\n"


@pytest.fixture()
def note(api):
    owner = api.post("/customers", {"customerName": "Acme Corp"}).json
    return api.post(f"/customers/{owner['id']}/notes", {"text": "call"}).json


def download(api, attachment_id):
    return api.client.get(api.base + f"/noteAttachments/{attachment_id}",
                          headers={"Authorization": f"Bearer {api.key}", "Accept": "application/octet-stream"})


def disposition_names(header):
    """(filename, filename*) of a Content-Disposition header, decoded."""
    assert "\r" not in header and "\n" not in header and header.isascii(), header
    plain = re.search(r'filename="([^"]*)"', header).group(1)
    extended = re.search(r"filename\*=UTF-8''([^;\s]+)", header).group(1)
    return plain, urllib.parse.unquote(extended, errors="strict")


@pytest.mark.parametrize("given, shown, fallback", [
    ("../../../etc/passwd", "passwd", "passwd"),
    ("..\\..\\windows\\win.ini", "win.ini", "win.ini"),
    ("report\r\nSet-Cookie: a=b.pdf", "report Set-Cookie: a=b.pdf", "report Set-Cookie: a=b.pdf"),
    ("a\nb\x00c.txt", "a b c.txt", "a b c.txt"),
    ("Rapport été «2024».pdf", "Rapport été «2024».pdf", "Rapport ete 2024.pdf"),
    ('say "hi".txt', 'say "hi".txt', "say _hi_.txt"),
    ("日本語.txt", "日本語.txt", "file.txt"),
    ("../", "file", "file"),
    ("100%.txt", "100%.txt", "100_.txt"),
])
def test_names_are_kept_safe_and_downloads_carry_them(api, note, given, shown, fallback):
    created = api.post(f"/notes/{note['id']}/noteAttachments",
                       {"fileName": given, "_fileContent": base64.b64encode(DATA).decode()})
    assert created.status_code == 201, created.body
    assert created.json["fileName"] == shown
    raw = download(api, created.json["id"])
    assert raw.status_code == 200 and raw.body == DATA
    assert disposition_names(raw.headers["Content-Disposition"]) == (fallback, shown)
    renamed = api.patch(f"/noteAttachments/{created.json['id']}", {"fileName": "x/" + given})
    assert renamed.status_code == 200 and renamed.json["fileName"] == shown


def test_multipart_part_names_are_kept_safe(api, note):
    boundary = "b0undary"
    body = (f"--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"../../secret.txt\"\r\n\r\n"
            ).encode() + DATA + f"\r\n--{boundary}--\r\n".encode()
    response = api.client.post(api.base + f"/notes/{note['id']}/noteAttachments", body=body,
                               headers={"Authorization": f"Bearer {api.key}", "Accept": "application/json",
                                        "Content-Type": f"multipart/form-data; boundary={boundary}"})
    assert response.status_code == 201, response.body
    assert json.loads(response.body)["fileName"] == "secret.txt"


def test_a_name_stored_before_the_rule_still_downloads(api, note, admin):
    created = api.post(f"/notes/{note['id']}/noteAttachments",
                       {"fileName": "ok.txt", "_fileContent": base64.b64encode(DATA).decode()}).json
    record = attachments.get(principal=admin, attachment_id=created["id"])
    entities.update(attachments.NOTE_ATTACHMENT, admin.tenant_id, record, {"fileName": "../a\r\nb\u2028c.txt"})
    raw = download(api, created["id"])
    assert raw.status_code == 200 and raw.body == DATA
    assert disposition_names(raw.headers["Content-Disposition"]) == ("a b c.txt", "a b c.txt")
