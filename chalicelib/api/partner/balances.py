"""Partner API, balances: a customer's and the partner's statement, moving funds."""
from __future__ import annotations

from typing import TYPE_CHECKING

from chalice import Response
from chalice.app import Request

from chalicelib.api import http
from chalicelib.api.partner.dialect import FORMS, bp, form, ok, serve
from chalicelib.api.partner.views import statement_view
from chalicelib.domain.errors import ValidationError
from chalicelib.domain.identity import Principal
from chalicelib.lazy import lazy

if TYPE_CHECKING:
    from chalicelib.services.money import statements
else:
    statements = lazy("chalicelib.services.money.statements")


@bp.route("/customers/{account_number}/balance", methods=["GET"])
def customer_balance(account_number: str) -> Response:
    def handle(principal: Principal, request: Request) -> Response:
        params = http.query(request)
        first, last = statements.period(params.get("initial_date"), params.get("final_date"))
        return ok(statement_view(statements.customer_statement(
            principal=principal, account_number=account_number, first_day=first, last_day=last)))
    return serve(handle)


@bp.route("/balance", methods=["GET"])
def partner_balance() -> Response:
    def handle(principal: Principal, request: Request) -> Response:
        params = http.query(request)
        first, last = statements.period(params.get("initial_date"), params.get("final_date"))
        return ok(statement_view(statements.partner_statement(principal=principal, first_day=first, last_day=last)))
    return serve(handle)


@bp.route("/funds", methods=["PUT"], content_types=FORMS)
def move_funds() -> Response:
    def handle(principal: Principal, request: Request) -> Response:
        fields = form(request)
        account = fields.get("account_number")
        if not account:
            raise ValidationError("account_number is required", field="account_number")
        if "amount" not in fields:
            raise ValidationError("amount is required", field="amount")
        posted = statements.move_funds(principal=principal, account_number=account, amount=fields["amount"],
                                       description=fields.get("description"),
                                       idempotency_key=request.headers.get("idempotency-key"))
        customer_entry = next(e for e in posted.entries if e["account"] != "TENANT")
        return ok({"customer_balance": customer_entry["balanceAfter"],
                   "customer_credit_limit": customer_entry["creditLimit"]})
    return serve(handle)
