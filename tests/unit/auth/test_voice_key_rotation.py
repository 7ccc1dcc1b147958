"""rotate-voice-keys on a deployed stage: the key set lives in an SSM parameter."""
from __future__ import annotations

import json

import pytest

from chalicelib.adapters import parameters
from chalicelib.auth import access_tokens
from chalicelib.store.clients import client


@pytest.fixture()
def deployed(aws, monkeypatch):
    monkeypatch.setenv("DIALTONE_STAGE", "dev")
    monkeypatch.delenv("VOICE_JWT_KEYS", raising=False)
    monkeypatch.setenv("VOICE_JWT_KEYS_PARAMETER", "/dialtone/dev/voice-jwt-keys-rotation-test")
    parameters.forget()
    access_tokens.forget_keys()
    yield
    parameters.forget()
    access_tokens.forget_keys()


def test_the_first_rotation_of_a_new_stage_creates_the_parameter(deployed):
    # A new stage: the parameter does not exist yet, so the key set starts empty.
    first = access_tokens.rotate_keys()
    assert first["live"] == [first["active"]] and first["stored"] == "/dialtone/dev/voice-jwt-keys-rotation-test"
    stored = json.loads(client("ssm").get_parameter(Name=first["stored"], WithDecryption=True)["Parameter"]["Value"])
    assert stored["active"] == first["active"]
    second = access_tokens.rotate_keys()
    assert second["live"] == [second["active"], first["active"]]  # two keys live
