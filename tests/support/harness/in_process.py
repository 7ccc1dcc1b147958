"""One moto-backed AWS for the whole in-process test session.

Clients and tables are created once (about 12x faster than per test); tests
stay independent by each creating its own tenant, which the data model
isolates completely. The emulated state is emptied after each test (after
each module for modules marked SHARED_STATE) and the tables created again:
moto copies every table a transaction touches, whole, to roll back, so
tables that kept growing over the session made each transaction slower and
a test process's memory grow into gigabytes (one was killed at 22 GB).
"""
from __future__ import annotations

import os
from typing import Any, Iterator

import pytest

from tests.support.harness.stage import stage_environment


@pytest.fixture(scope="session")
def aws() -> Iterator[None]:
    from moto import mock_aws

    saved = dict(os.environ)
    os.environ.update(stage_environment("test"))
    for name in ("AWS_ENDPOINT_URL", "AWS_ENDPOINT_URL_DYNAMODB", "AWS_ENDPOINT_URL_S3", "AWS_ENDPOINT_URL_SQS"):
        os.environ.pop(name, None)
    os.environ.setdefault("AWS_ACCESS_KEY_ID", "testing")
    os.environ.setdefault("AWS_SECRET_ACCESS_KEY", "testing")
    from chalicelib.store import clients
    from infra.local import resources

    clients.reset()
    with mock_aws() as mock:
        resources.create_all("test")
        _SESSION["mock"] = mock
        yield
        _SESSION.pop("mock", None)
    clients.reset()
    os.environ.clear()
    os.environ.update(saved)


_SESSION: dict[str, Any] = {}
# A module whose module-scoped fixtures keep data in the in-process AWS for
# all its tests (a shop built once) says so with this mark; its state is
# emptied after the module instead of after each test.
SHARED_STATE = "aws_state_shared_by_module"


def empty_aws() -> None:
    """Everything gone, the stage's resources created again: between tests
    (the fixtures below), and between the worlds of a long fault sweep."""
    if _SESSION.get("mock") is None:
        return  # this module did not use the in-process AWS
    from moto.core.base_backend import BackendDict

    from infra.local import resources

    BackendDict.reset()  # the backends only: the mock's interception of presigned-URL requests stays
    resources.create_all("test")
    _forget_what_mirrors_aws()


def _forget_what_mirrors_aws() -> None:
    """The process caches of things that lived in the emptied AWS: a cached
    key set whose stored copy is gone would sign tokens no later read of the
    store can verify (a module's fixture built after another module's test
    failed that way when pytest-xdist ran the two on one worker)."""
    from chalicelib.adapters import parameters
    from chalicelib.auth import access_tokens, api_key, digest
    from chalicelib.services.tracking import fields
    from chalicelib.store import queues

    access_tokens.forget_keys()
    access_tokens.forget_users()
    api_key.forget_all()
    digest.forget()
    fields.forget()
    queues.forget_urls()
    parameters.forget()


@pytest.fixture(autouse=True)
def aws_emptied_after_test(request: pytest.FixtureRequest) -> Iterator[None]:
    """After each test: everything gone, the stage's resources created again
    (about 65 ms). Tests never shared data anyway (each makes its own tenant);
    this keeps every table small for moto's whole-table copies."""
    yield
    if request.node.get_closest_marker(SHARED_STATE) is None:
        empty_aws()


@pytest.fixture(scope="module", autouse=True)
def aws_emptied_after_module(request: pytest.FixtureRequest) -> Iterator[None]:
    """A module marked SHARED_STATE is emptied once, after its last test
    (the others already were, after each test)."""
    yield
    if request.node.get_closest_marker(SHARED_STATE) is not None:
        empty_aws()


@pytest.fixture()
def tenant(aws: None) -> dict:
    """A fresh tenant with its administrator's credentials."""
    from chalicelib.services.identity import users

    return users.create_tenant(name="Test Tenant")
