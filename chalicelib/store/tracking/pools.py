"""Session pools (services/tracking/pools.py): a source's pool numbers, the
live sessions holding them and each hand-out (a visit) per number."""
from __future__ import annotations

from typing import Any, Iterable

from chalicelib.domain.errors import ConcurrentUpdateError
from chalicelib.store.dynamo.codec import to_item
from chalicelib.store.dynamo.table import Transaction, ddb, get
from chalicelib.store.tracking.keys import (
    partition, pool_key, pool_pk, session_key, table, visit_key, visit_pk, without_keys,
)


def put_pool_numbers(tenant: str, source_id: int, numbers: Iterable[str]) -> None:
    for number in numbers:
        ddb().put_item(TableName=table(), Item=to_item({**pool_key(tenant, source_id, number),
                                                        "number": number, "lastHandedAt": ""}),
                       ConditionExpression="attribute_not_exists(PK)")


def pool(tenant: str, source_id: int) -> list[dict[str, Any]]:
    return partition(pool_pk(tenant, source_id), consistent=True)


def live_session(tenant: str, source_id: int, session: str) -> dict[str, Any] | None:
    item = get(table(), session_key(tenant, source_id, session))
    return without_keys(item) if item else None


def hand_out(tenant: str, source_id: int, *, number: str, previous: str, session: str, now: str, until: str,
             expires_at: int) -> bool:
    """Give ``number`` to ``session`` if nobody took it since it was read as
    last handed out at ``previous``; False on a lost race."""
    tx = Transaction()
    tx.update(table(), pool_key(tenant, source_id, number),
              "SET lastHandedAt = :now, #s = :session, sessionUntil = :until",
              condition="lastHandedAt = :previous", names={"#s": "session"},
              values={":now": now, ":session": session, ":until": until, ":previous": previous})
    tx.put(table(), {**session_key(tenant, source_id, session), "number": number, "from": now, "until": until,
                     "expiresAt": expires_at})
    tx.put(table(), {**visit_key(tenant, number, since=now, session=session), "session": session,
                     "sourceId": source_id, "from": now, "until": until})
    try:
        tx.execute()
    except ConcurrentUpdateError:
        return False
    return True


def extend_session(tenant: str, source_id: int, *, session: str, number: str, started: str, until: str,
                   expires_at: int) -> None:
    tx = Transaction()
    tx.update(table(), session_key(tenant, source_id, session), "SET #u = :u, expiresAt = :e",
              names={"#u": "until"}, values={":u": until, ":e": expires_at})
    tx.update(table(), visit_key(tenant, number, since=started, session=session), "SET #u = :u",
              names={"#u": "until"}, values={":u": until})
    tx.update(table(), pool_key(tenant, source_id, number), "SET sessionUntil = :u",
              values={":u": until})
    tx.execute()


def visits(tenant: str, number: str) -> list[dict[str, Any]]:
    """Sessions a pool number was handed to: {session, sourceId, from, until}."""
    return partition(visit_pk(tenant, number))
