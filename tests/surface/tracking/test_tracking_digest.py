"""Digest details beyond the happy path: the ``uri`` must name the request's
whole target, the allow-list and failed sign-ins, who may authenticate, and
single-algorithm clients on every writing method."""
from __future__ import annotations

from typing import Any

import pytest

from chalicelib.auth import digest
from tests.surface.tracking.helpers import BASE, Tracking, challenges


def _challenge(client: Any) -> dict[str, str]:
    bare = client.request("GET", BASE + "/miscellaneous/ping", headers={"Host": "h"})
    return {c["algorithm"]: c for c in challenges(bare)}["SHA-256"]


def _signed_for(client: Any, tenant: dict, *, uri: str, target: str, method: str = "GET") -> Any:
    """A request to ``target`` whose digest was computed (rightly) for ``uri``."""
    header = digest.answer(_challenge(client), username=tenant["user"]["username"],
                           password=tenant["user"]["password"], method=method, uri=uri)
    return client.request(method, target, headers={"Host": "h", "Authorization": header})


@pytest.mark.parametrize("uri,target", [
    ("/1", BASE + "/customers/1"),                                            # a suffix of the path
    (BASE + "/customers/1/sources", BASE + "/customers/1"),                  # the path a prefix of it
    ("/other" + BASE + "/customers", BASE + "/customers"),                   # a prefix that is not the stage
    (BASE + "/customers", BASE + "/customers?customer_id=1"),                # the query left out
    (BASE + "/customers?customer_id=2", BASE + "/customers?customer_id=1"),  # another query
    (BASE + "/customers?customer_id=1&page=1", BASE + "/customers?customer_id=1"),
    (BASE + "/customers?customer_id=1", BASE + "/customers"),
])
def test_the_digest_uri_must_name_the_whole_request_target(client, tenant, uri, target):
    assert _signed_for(client, tenant, uri=uri, target=target).status_code == 401


@pytest.mark.parametrize("uri,target", [
    (BASE + "/customers?page=0&pagesize=5", BASE + "/customers?page=0&pagesize=5"),
    (BASE + "/customers?pagesize=5&page=0", BASE + "/customers?page=0&pagesize=5"),  # order aside
    (BASE + "/customers?email=a%40b.c", BASE + "/customers?email=a@b.c"),           # encoding aside
    (BASE + "/customers&page=0", BASE + "/customers&page=0"),                       # the document's & form
    ("http://h" + BASE + "/customers?page=0", BASE + "/customers?page=0"),          # absolute form
])
def test_the_same_target_written_differently_is_accepted(client, tenant, uri, target):
    answer = _signed_for(client, tenant, uri=uri, target=target)
    assert answer.status_code == 200, answer.body


def test_only_the_stage_prefix_may_differ():
    query: list[tuple[str, str]] = []
    path = "/tracking/v1/customers/1"
    assert digest.uri_matches("/api" + path, path=path, query=query, stage="api")
    assert digest.uri_matches(path, path="/api" + path, query=query, stage="api")
    assert not digest.uri_matches("/apx" + path, path=path, query=query, stage="api")
    assert not digest.uri_matches("/api" + path, path=path, query=query, stage=None)
    assert not digest.uri_matches("/1", path=path, query=query, stage="api")
    assert digest.uri_matches(path + "?q=a+b", path=path, query=[("q", "a b")])
    assert digest.uri_matches(path + "?q=a+b", path=path, query=[("q", "a+b")])  # a gateway keeping '+'
    assert not digest.uri_matches(path + "?q=a&q=a", path=path, query=[("q", "a")])
