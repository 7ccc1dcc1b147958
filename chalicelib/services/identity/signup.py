"""Customer self-service through the partner API: registration, e-mail
confirmation, login links and password resets. Every mail goes through the
stage's sender (SES, or the local capture)."""
from __future__ import annotations

import os
from typing import Any, Mapping

from chalicelib.domain import identity
from chalicelib.domain.errors import AlreadyExistsError, NotFoundError, PermissionDeniedError, ValidationError
from chalicelib.domain.identity import Principal
from chalicelib.services.customers import accounts as customers
from chalicelib.services.identity import links
from chalicelib.services.identity import users
from chalicelib.adapters import mail
from chalicelib.store.customers import accounts as customer_store
from chalicelib.store.identity import users as identity_store

CONTACT_FIELDS = ("phone", "contactName", "companyNumber", "address1", "address2", "city", "state", "postcode",
                  "country")
MIN_PASSWORD = 8


def _base_url() -> str:
    return os.environ.get("PUBLIC_BASE_URL", "http://127.0.0.1:8000").rstrip("/")


def register_customer(*, principal: Principal, name: str, email: str, password: str,
                      contact: Mapping[str, Any]) -> dict[str, Any]:
    """A customer, its customer user (username = e-mail) and a confirmation mail.
    Customer, account-number claim, user and username claim are one transaction:
    a registration that loses a race for the e-mail leaves no customer behind."""
    if principal.customer_access != identity.ACCESS_ALL:
        raise PermissionDeniedError("only users with access to all customers may register customers")
    email = (email or "").strip()
    if "@" not in email or len(email) > 254:
        raise ValidationError("email must be an e-mail address", field="email")
    if len(password or "") < MIN_PASSWORD:
        raise ValidationError(f"password must be at least {MIN_PASSWORD} characters", field="password")

    # Checked before the customer is written; a racing registration with the
    # same e-mail loses at the user's uniqueness claim instead.
    if identity_store.find_user_by_username(email):
        raise ValidationError("a user with this e-mail already exists", field="email")
    fields = {"name": name, "email": email, **{k: v for k, v in contact.items() if k in CONTACT_FIELDS and v}}

    customer_id = customer_store.allocate_id(principal.tenant_id)
    user, user_writes = users.prepare_customer_user(tenant=principal.tenant_id, username=email,
                                                    customer_id=customer_id, password=password)
    try:
        customer = customers.create_customer(principal=principal, fields=fields, entity_id=customer_id,
                                             also=user_writes)
    except AlreadyExistsError as error:
        if error.field == "username":
            raise ValidationError("a user with this e-mail already exists", field="email") from None
        raise
    _send(principal.tenant_id, customer, user["id"], links.CONFIRM_EMAIL, "Confirm your e-mail address",
          "Confirm your e-mail address for account {account}: {url}\nThe link works once, for 3 days.",
          "/partner/confirm-email")
    return {"account_number": customer["accountNumber"], "customer_id": customer["id"]}


def _customer_user(principal: Principal, account_number: str) -> tuple[dict[str, Any], dict[str, Any]]:
    customer = customers.customer_by_account_number(principal=principal, account_number=account_number)
    user = users.find_user(tenant=principal.tenant_id, user=customer.get("email") or "")
    if user.get("customerId") != customer["id"]:
        raise NotFoundError(f"account {account_number} has no customer user", field="account_number")
    return customer, user


def _send(tenant: str, customer: Mapping[str, Any], user_id: int, purpose: str, subject: str, text: str,
          path: str) -> str:
    token = links.issue(purpose=purpose, tenant=tenant, customer_id=customer["id"], user_id=user_id)
    url = f"{_base_url()}{path}?account={customer['accountNumber']}&code={token}"
    mail.sender().send(tenant=tenant, to=customer["email"], subject=subject,
                       body=text.format(account=customer["accountNumber"], url=url))
    return url


def confirm_email(*, principal: Principal, account_number: str, code: str | None) -> dict[str, Any]:
    customer, user = _customer_user(principal, account_number)
    record = links.consume(token=code, purpose=links.CONFIRM_EMAIL, tenant=principal.tenant_id)
    if record["customerId"] != customer["id"]:
        raise ValidationError("the link is for another account", field="code")
    users.mark_email_confirmed(tenant=principal.tenant_id, user_id=user["id"])
    return {"account_number": account_number, "email_confirmed": True}


def confirm_email_link(*, code: str | None) -> dict[str, Any]:
    """The e-mailed confirmation link, followed by the person who got it (no
    API key: the single-use code is the credential)."""
    record = links.consume(token=code, purpose=links.CONFIRM_EMAIL)
    users.mark_email_confirmed(tenant=record["tenantId"], user_id=record["userId"])
    return {"email_confirmed": True}


def login_url(*, principal: Principal, account_number: str) -> dict[str, Any]:
    """A short-lived, single-use URL that exchanges for a customer session."""
    customer, user = _customer_user(principal, account_number)
    token = links.issue(purpose=links.LOGIN, tenant=principal.tenant_id, customer_id=customer["id"],
                        user_id=user["id"])
    return {"url": f"{_base_url()}/partner/api/v1/session?code={token}",
            "expires_in": links.TTL_SECONDS[links.LOGIN]}


def exchange_login(*, code: str | None) -> dict[str, Any]:
    record = links.consume(token=code, purpose=links.LOGIN)
    session, ttl = links.new_session(tenant=record["tenantId"], customer_id=record["customerId"],
                                     user_id=record["userId"])
    return {"session_token": session, "expires_in": ttl}


def request_password_reset(*, principal: Principal, account_number: str) -> dict[str, Any]:
    customer, user = _customer_user(principal, account_number)
    _send(principal.tenant_id, customer, user["id"], links.RESET_PASSWORD, "Reset your password",
          "Reset the password of account {account}: {url}\nThe link works once, for one hour.",
          "/partner/reset-password")
    return {"account_number": account_number, "sent": True}


def reset_password(*, code: str | None, password: str | None) -> dict[str, Any]:
    if len(password or "") < MIN_PASSWORD:
        raise ValidationError(f"password must be at least {MIN_PASSWORD} characters", field="password")
    record = links.consume(token=code, purpose=links.RESET_PASSWORD)
    users.set_password(tenant=record["tenantId"], user_id=record["userId"], password=password or "")
    return {"password_changed": True}
