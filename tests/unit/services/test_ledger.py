from decimal import Decimal

import pytest

from chalicelib import clock
from chalicelib.domain.money import ledger as rules
from chalicelib.domain.errors import InsufficientFundsError, NotFoundError, ValidationError
from chalicelib.domain.money.ledger import TENANT_ACCOUNT
from chalicelib.services.money import ledger, ledger_reads
from chalicelib.store.money import ledger as store
from chalicelib.store.dynamo.table import Transaction
from tests.support.worlds.money import admin, ledger_sum, new_customer

D = Decimal


def test_a_payment_moves_balance_and_ledger_together(tenant):
    t = tenant["tenant"]["id"]
    customer = new_customer(admin(tenant))
    posted = ledger.post_movement(tenant=t, account=customer["id"], activity=rules.CREDIT_CARD, amount=D("10.12345"),
                                  reference="p1", idempotency_key="k1")
    assert posted.balance(customer["id"]) == D("10.12345")
    assert ledger.balance_of(tenant=t, account=customer["id"]) == (D("10.12345"), D("0"))
    assert ledger_sum(t, customer["id"]) == D("10.12345")


def test_a_debit_below_the_credit_limit_writes_nothing(tenant):
    t = tenant["tenant"]["id"]
    customer = new_customer(admin(tenant), credit_limit="-5")
    ledger.post_movement(tenant=t, account=customer["id"], activity=rules.ORDER_NEW_DIDS, amount=D("-5"),
                         reference="o1", idempotency_key="o1")
    with pytest.raises(InsufficientFundsError):
        ledger.post_movement(tenant=t, account=customer["id"], activity=rules.CALL_CHARGES_ACTIVITY,
                             amount=D("-0.00001"), reference="c1", idempotency_key="c1")
    assert ledger.balance_of(tenant=t, account=customer["id"])[0] == D("-5")
    assert ledger_sum(t, customer["id"]) == D("-5")
    # A credit is always accepted, even below the limit.
    ledger.post_movement(tenant=t, account=customer["id"], activity=rules.ADJUSTMENT, amount=D("1"),
                         reference="a", idempotency_key="a")


@pytest.mark.parametrize("activity,amount", [
    (rules.CREDIT_CARD, D("-1")), (rules.ORDER_NEW_DIDS, D("1")), (rules.ADJUSTMENT, D("0")),
    ("Lottery Win", D("1")), (rules.ADJUSTMENT, D("0.000001")),
])
def test_bad_movements_are_refused(tenant, activity, amount):
    t = tenant["tenant"]["id"]
    customer = new_customer(admin(tenant))
    with pytest.raises(ValidationError):
        ledger.post_movement(tenant=t, account=customer["id"], activity=activity, amount=amount,
                             reference="x", idempotency_key="x")
    assert ledger_sum(t, customer["id"]) == 0


def test_unknown_account_is_not_found(tenant):
    with pytest.raises(NotFoundError):
        ledger.post_movement(tenant=tenant["tenant"]["id"], account=999999, activity=rules.ADJUSTMENT,
                             amount=D("1"), reference="x", idempotency_key="x")


def test_an_idempotency_key_is_one_movement(tenant):
    t = tenant["tenant"]["id"]
    customer = new_customer(admin(tenant))
    first = ledger.post_movement(tenant=t, account=customer["id"], activity=rules.ADJUSTMENT, amount=D("3"),
                                 reference="r", idempotency_key="same")
    again = ledger.post_movement(tenant=t, account=customer["id"], activity=rules.ADJUSTMENT, amount=D("3"),
                                 reference="r", idempotency_key="same")
    assert again.replayed and again.entries[0]["seq"] == first.entries[0]["seq"]
    assert ledger_sum(t, customer["id"]) == D("3")
    with pytest.raises(ValidationError):
        ledger.post_movement(tenant=t, account=customer["id"], activity=rules.ADJUSTMENT, amount=D("4"),
                             reference="r", idempotency_key="same")


def test_a_failing_also_action_cancels_the_charge(tenant):
    """The order-charge composition: the movement and the caller's writes are one transaction."""
    from chalicelib import settings

    t = tenant["tenant"]["id"]
    customer = new_customer(admin(tenant), credit_limit="-100")

    class NumberGone(ValidationError):
        pass

    def activate(tx: Transaction) -> None:
        tx.check(settings.main_table(), {"PK": f"T#{t}#NUMBER", "SK": "000000000001"}, "attribute_exists(PK)",
                 failure=NumberGone("number 1 is gone"))

    with pytest.raises(NumberGone):
        ledger.post_movement(tenant=t, account=customer["id"], activity=rules.ORDER_NEW_DIDS, amount=D("-2"),
                             reference="order:1", idempotency_key="order:1", also=activate)
    assert ledger.balance_of(tenant=t, account=customer["id"])[0] == 0
    assert ledger_sum(t, customer["id"]) == 0


def test_fund_moves_conserve_the_total_and_respect_the_partner_limit(tenant):
    t = tenant["tenant"]["id"]
    customer = new_customer(admin(tenant))
    ledger.post_movement(tenant=t, account=TENANT_ACCOUNT, activity=rules.ADJUSTMENT, amount=D("50"),
                         reference="seed", idempotency_key="seed")
    posted = ledger.transfer_funds(tenant=t, customer_id=customer["id"], amount=D("20.5"), description="top up",
                                   idempotency_key="f1")
    assert posted.balance(customer["id"]) == D("20.5")
    assert ledger.balance_of(tenant=t, account=TENANT_ACCOUNT)[0] == D("29.5")
    with pytest.raises(InsufficientFundsError):
        ledger.transfer_funds(tenant=t, customer_id=customer["id"], amount=D("30"), description=None,
                              idempotency_key="f2")
    with pytest.raises(InsufficientFundsError):
        ledger.transfer_funds(tenant=t, customer_id=customer["id"], amount=D("-21"), description=None,
                              idempotency_key="f3")
    ledger.transfer_funds(tenant=t, customer_id=customer["id"], amount=D("-0.5"), description=None,
                          idempotency_key="f4")
    assert ledger.balance_of(tenant=t, account=customer["id"])[0] == D("20")
    assert ledger.balance_of(tenant=t, account=TENANT_ACCOUNT)[0] == D("30")


def test_statement_from_checkpoints_matches_the_ledger(tenant):
    """Movements over several days (the clock is set per movement); every
    statement equals what the entries say, to the last digit."""
    t = tenant["tenant"]["id"]
    customer = new_customer(admin(tenant), credit_limit="-1000")
    plan = [
        ("2024-01-30", rules.CREDIT_CARD, "100.00001"), ("2024-01-30", rules.CALL_CHARGES_ACTIVITY, "-1.5"),
        ("2024-01-31", rules.ORDER_NEW_DIDS, "-3"), ("2024-02-02", rules.ADJUSTMENT, "-0.25"),
        ("2024-02-02", rules.PAYMENT_REFUND, "-10"), ("2024-02-05", rules.USF_TAX, "-0.33333"),
        ("2024-02-09", rules.BANK_TRANSFER, "7"),
    ]
    for n, (day, activity, amount) in enumerate(plan):
        clock.set_now(f"{day}T10:00:{n:02d}")
        ledger.post_movement(tenant=t, account=customer["id"], activity=activity, amount=D(amount),
                             reference=str(n), idempotency_key=str(n))
    # Whole months (closed: month record; open: state item), periods ending
    # today (the clock's last day, 2024-02-09) or later, and any other pair.
    days = ["2023-12-01", "2023-12-31", "2024-01-01", "2024-01-29", "2024-01-30", "2024-01-31", "2024-02-01",
            "2024-02-02", "2024-02-05", "2024-02-09", "2024-02-10", "2024-02-29"]
    for first in days:
        for last in days:
            if first > last:
                continue
            got = ledger_reads.statement(tenant=t, account=customer["id"], first_day=first, last_day=last)
            assert got == _expected(plan, first, last), (first, last)
            # The day-by-day method (accounts older than cumulative totals) agrees.
            by_days = ledger_reads._statement_by_days(tenant=t, account=customer["id"], first_day=first, last_day=last)
            assert by_days == got, (first, last)


def _expected(plan, first, last):
    opening = sum((D(a) for d, _, a in plan if d < first), D("0"))
    totals = rules.empty_totals()
    for day, activity, amount in plan:
        if first <= day <= last:
            totals[rules.category_of(activity)] += D(amount)
    return rules.Statement.from_totals(opening, totals)


def test_checkpoints_are_written_on_day_change(tenant):
    t = tenant["tenant"]["id"]
    customer = new_customer(admin(tenant))
    for n, day in enumerate(["2024-03-01", "2024-03-01", "2024-03-04"]):
        clock.set_now(f"{day}T00:00:0{n}")
        ledger.post_movement(tenant=t, account=customer["id"], activity=rules.ADJUSTMENT, amount=D("1"),
                             reference=str(n), idempotency_key=str(n))
    closed = store.get_checkpoint(t, customer["id"], "2024-03-01")
    assert closed["opening"] == 0 and closed["closing"] == 2 and closed["count"] == 2
    assert store.get_checkpoint(t, customer["id"], "2024-03-04") is None  # still open


def test_tenants_do_not_see_each_others_accounts(tenant):
    from chalicelib.services.identity import users

    other = users.create_tenant(name="Other")
    customer = new_customer(admin(tenant))
    with pytest.raises(NotFoundError):
        ledger.post_movement(tenant=other["tenant"]["id"], account=customer["id"], activity=rules.ADJUSTMENT,
                             amount=D("1"), reference="x", idempotency_key="x")


def test_accounts_without_cumulative_totals_fall_back_to_days(tenant):
    """An account that moved before cumulative totals existed has none on its
    state item: its statements still add up, from the day checkpoints."""
    from chalicelib import settings
    from chalicelib.store.dynamo.codec import to_item
    from chalicelib.store.dynamo.table import ddb

    t = tenant["tenant"]["id"]
    customer = new_customer(admin(tenant), credit_limit="-100")
    plan = [("2024-05-01", rules.CREDIT_CARD, "5"), ("2024-05-03", rules.CALL_CHARGES_ACTIVITY, "-1.25")]
    for n, (day, activity, amount) in enumerate(plan):
        clock.set_now(f"{day}T10:00:{n:02d}")
        ledger.post_movement(tenant=t, account=customer["id"], activity=activity, amount=D(amount),
                             reference=str(n), idempotency_key=str(n))
    ddb().update_item(TableName=settings.main_table(), Key=to_item(store.state_key(t, customer["id"])),
                      UpdateExpression="REMOVE ledgerCumTotals")
    for first, last in (("2024-05-01", "2024-05-31"), ("2024-05-02", "2024-05-03"), ("2024-05-01", "2024-05-01")):
        got = ledger_reads.statement(tenant=t, account=customer["id"], first_day=first, last_day=last)
        assert got == _expected(plan, first, last), (first, last)
    # And such an account never starts cumulative totals half-way.
    clock.set_now("2024-05-04T10:00:00")
    ledger.post_movement(tenant=t, account=customer["id"], activity=rules.ADJUSTMENT, amount=D("1"),
                         reference="x", idempotency_key="x")
    assert "ledgerCumTotals" not in store.read_state(t, customer["id"])
    assert "cumulative" not in store.get_checkpoint(t, customer["id"], "2024-05-03")


def test_call_charges_may_carry_an_overdraft_allowance_nothing_else_may(tenant):
    t = tenant["tenant"]["id"]
    customer = new_customer(admin(tenant), credit_limit="-5")
    # Usage already delivered: recorded below the limit with the allowance...
    ledger.post_movement(tenant=t, account=customer["id"], activity=rules.CALL_CHARGES_ACTIVITY, amount=D("-7"),
                         reference="calls", idempotency_key="calls", overdraft=True)
    assert ledger.balance_of(tenant=t, account=customer["id"])[0] == D("-7") == ledger_sum(t, customer["id"])
    # ...without it, a call charge is spend like any other and is refused.
    with pytest.raises(InsufficientFundsError):
        ledger.post_movement(tenant=t, account=customer["id"], activity=rules.CALL_CHARGES_ACTIVITY,
                             amount=D("-1"), reference="c2", idempotency_key="c2")
    # Payments, fund moves, adjustments and orders never get the allowance.
    for activity, amount in ((rules.ORDER_NEW_DIDS, D("-1")), (rules.FUND_TRANSFER, D("-1")),
                             (rules.ADJUSTMENT, D("-1")), (rules.PAYMENT_REFUND, D("-1")),
                             (rules.CREDIT_CARD, D("1"))):
        with pytest.raises(ValidationError):
            ledger.post_movement(tenant=t, account=customer["id"], activity=activity, amount=amount,
                                 reference="x", idempotency_key=f"x-{activity}", overdraft=True)
    # Below its limit, new spend is blocked; a credit brings it back.
    with pytest.raises(InsufficientFundsError):
        ledger.transfer_funds(tenant=t, customer_id=customer["id"], amount=D("-1"), description=None,
                              idempotency_key="back")
    ledger.post_movement(tenant=t, account=customer["id"], activity=rules.CREDIT_CARD, amount=D("3"),
                         reference="pay", idempotency_key="pay")
    ledger.post_movement(tenant=t, account=customer["id"], activity=rules.ORDER_NEW_DIDS, amount=D("-1"),
                         reference="o", idempotency_key="o")
    assert ledger.balance_of(tenant=t, account=customer["id"])[0] == D("-5") == ledger_sum(t, customer["id"])


def test_month_records_and_the_state_item_answer_common_periods_in_one_read(tenant):
    from chalicelib.store.clients import client

    t = tenant["tenant"]["id"]
    customer = new_customer(admin(tenant), credit_limit="-1000")
    plan = [("2024-01-30", rules.CREDIT_CARD, "100"), ("2024-01-31", rules.CALL_CHARGES_ACTIVITY, "-1.5"),
            ("2024-02-03", rules.ORDER_NEW_DIDS, "-3"), ("2024-03-02", rules.ADJUSTMENT, "-0.25"),
            ("2024-03-05", rules.BANK_TRANSFER, "7")]
    for n, (day, activity, amount) in enumerate(plan):
        clock.set_now(f"{day}T10:00:{n:02d}")
        ledger.post_movement(tenant=t, account=customer["id"], activity=activity, amount=D(amount),
                             reference=str(n), idempotency_key=str(n))
    january = store.get_month(t, customer["id"], "2024-01")
    assert (january["opening"], january["closing"]) == (0, D("98.5"))
    assert store.get_month(t, customer["id"], "2024-02")["opening"] == D("98.5")
    assert store.get_month(t, customer["id"], "2024-03") is None  # still open
    calls = {"n": 0}

    def count(**_):
        calls["n"] += 1

    ddb = client("dynamodb")
    ddb.meta.events.register("before-call.dynamodb", count)
    try:
        for first, last, requests in (("2024-01-01", "2024-01-31", 1), ("2024-02-01", "2024-02-29", 1),
                                      ("2024-03-01", "2024-03-31", 1), ("2024-01-30", "2024-03-05", 1),
                                      ("2023-01-01", "2024-03-05", 1), ("2024-02-04", "2024-03-05", 2), ("2024-02-05", "2024-03-05", 3),
                                      ("2024-01-31", "2024-03-05", 2), ("2024-01-15", "2024-02-14", 2)):
            calls["n"] = 0
            got = ledger_reads.statement(tenant=t, account=customer["id"], first_day=first, last_day=last)
            assert got == _expected(plan, first, last), (first, last)
            assert calls["n"] == requests, (first, last, calls["n"])
    finally:
        ddb.meta.events.unregister("before-call.dynamodb", count)
