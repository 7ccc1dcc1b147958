"""Card payments: the status change that settles one (creating, reading and
listing the PAYMENT entity is the generic entity repository's). Callers name
the entity type and its open-state index (``schema``, ``by_state``: PAYMENT and
its ByRef1 ``openState`` ref, defined in services/money/payments.py until the
schemas move to store/dynamo/schema.py).

A payment whose outcome is open sits on ByRef1 (``openState``, the
reconciliation job's lists): the status change moves it there while the
outcome stays unknown and takes it off once the outcome is known. It is
conditional on the status still being open, so a payment is settled once,
by the request or by the reconciliation, whichever writes first; the other
gets AlreadyExistsError.
"""
from __future__ import annotations

from typing import Any, Callable, Sequence

from chalicelib import clock, settings
from chalicelib.domain.errors import AlreadyExistsError
from chalicelib.store.dynamo import keys
from chalicelib.store.dynamo.entities import EntityType, Ref
from chalicelib.store.dynamo.table import Transaction


def _add_status_change(tx: Transaction, tenant: str, payment_id: int, *, status: str, gateway_ref: str | None,
                       open_states: Sequence[str], stays_open: bool, schema: EntityType, by_state: Ref) -> None:
    values: dict[str, Any] = {":s": status, ":now": clock.now_iso()}
    values.update({f":open{n}": state for n, state in enumerate(open_states)})
    expression = "SET #s = :s, updatedAt = :now"
    if gateway_ref:
        expression += ", gatewayRef = :g"
        values[":g"] = gateway_ref
    index = f"GSI{by_state.slot}"
    if stays_open:
        # Listed for the reconciliation job (ByRef1 STATE#<status>).
        expression += f", {by_state.field} = :s, {index}PK = :gpk, {index}SK = :gsk"
        values[":gpk"] = keys.ref_pk(tenant, schema.kind, by_state.name, status)
        values[":gsk"] = keys.pad(payment_id)
    else:
        expression += f" REMOVE {by_state.field}, {index}PK, {index}SK"
    condition = "#s IN (" + ", ".join(f":open{n}" for n in range(len(open_states))) + ")"
    tx.update(settings.main_table(), {"PK": keys.entity_pk(tenant, schema.kind), "SK": keys.pad(payment_id)},
              expression, condition=condition, values=values, names={"#s": "status"},
              failure=AlreadyExistsError("the payment was settled by another process"))


def status_writer(tenant: str, payment_id: int, *, status: str, gateway_ref: str | None,
                  open_states: Sequence[str], schema: EntityType, by_state: Ref,
                  stays_open: bool = False) -> Callable[[Transaction], None]:
    """The status change as a write for the transaction of the ledger movement
    that credits the payment (services/money/ledger.post_movement's ``also``):
    to ``status`` if the payment is still in one of ``open_states``;
    ``stays_open``: the outcome is not known yet, keep it listed."""
    def write(tx: Transaction) -> None:
        _add_status_change(tx, tenant, payment_id, status=status, gateway_ref=gateway_ref,
                           open_states=open_states, stays_open=stays_open, schema=schema, by_state=by_state)

    return write


def set_status(tenant: str, payment_id: int, *, status: str, gateway_ref: str | None,
               open_states: Sequence[str], schema: EntityType, by_state: Ref, stays_open: bool = False) -> None:
    """The status change alone (nothing to credit: declined, failed, unknown)."""
    tx = Transaction()
    _add_status_change(tx, tenant, payment_id, status=status, gateway_ref=gateway_ref, open_states=open_states,
                       stays_open=stays_open, schema=schema, by_state=by_state)
    tx.execute()
