"""Failed sign-ins are counted once for every door (auth/attempts.py): call
tracking's Digest, the voice API's password grant and the portal's login
share the counters per username and per source address, and past a limit
every attempt is refused, a right password too."""
from __future__ import annotations

from typing import Any

import pytest

from chalicelib.auth import attempts
from tests.support.surfaces.voice import Voice
from tests.support.surfaces.tracking import Tracking


def _refused_in_the_tracking_envelope(answer: Any) -> None:
    assert answer.status_code == 429, answer.body
    assert int(answer.headers["Retry-After"]) > 0
    assert answer.json["errors"][0]["status"] == "429"


def test_digest_guessing_is_refused_past_the_limit_even_with_the_right_password(client: Any, tenant: dict) -> None:
    name, password = tenant["user"]["username"], tenant["user"]["password"]
    guesser = Tracking(client, name, "not-the-password")
    assert [guesser.get("/customers").status_code for _ in range(attempts.USER_LIMIT)] == [401] * attempts.USER_LIMIT
    _refused_in_the_tracking_envelope(guesser.get("/customers"))
    # The right password no longer tells itself apart from a wrong one.
    _refused_in_the_tracking_envelope(Tracking(client, name, password).get("/customers"))


def test_failures_at_one_door_count_at_the_others(client: Any, tenant: dict) -> None:
    name, password = tenant["user"]["username"], tenant["user"]["password"]
    voice = Voice(client)
    for _ in range(3):
        assert voice.authorize(username=name, password="wrong").status_code == 401
    wrong_digest = Tracking(client, name, "wrong")
    assert [wrong_digest.get("/customers").status_code for _ in range(2)] == [401, 401]
    # Five failures in all: the password grant refuses the right password.
    refused = voice.authorize(username=name, password=password)
    assert refused.status_code == 429 and int({k.lower(): v for k, v in refused.headers.items()}["retry-after"]) > 0


def test_one_address_trying_many_usernames_is_refused(client: Any, tenant: dict,
                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SIGN_IN_LIMIT_PER_ADDRESS", "3")
    statuses = [Tracking(client, f"nobody-{n}", "guess").get("/customers").status_code for n in range(4)]
    assert statuses == [401, 401, 401, 429]
    # The address, not only those usernames: a fresh username from it is refused at the password grant.
    assert Voice(client).authorize(username="someone-else", password="guess").status_code == 429
