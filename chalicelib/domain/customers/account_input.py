"""Validation of customer writes (pydantic). Imported only by the write path,
so a cold start that serves a read does not pay for pydantic."""
from __future__ import annotations

from decimal import Decimal
from typing import Any, Mapping

from pydantic import BaseModel, ConfigDict, Field, ValidationError as PydanticError, field_validator

from chalicelib.domain.customers.accounts import validate_account_number
from chalicelib.domain.errors import UnknownFieldError, ValidationError
from chalicelib.domain.money.amounts import parse_money


class CustomerWrite(BaseModel):
    """The writable fields of a customer, in domain names. Absent = not given."""

    model_config = ConfigDict(extra="forbid", strict=True, str_strip_whitespace=True)

    name: str | None = Field(default=None, min_length=1, max_length=200)
    accountNumber: str | None = None
    email: str | None = Field(default=None, max_length=254)
    phone: str | None = Field(default=None, max_length=32)
    contactName: str | None = Field(default=None, max_length=200)
    companyNumber: str | None = Field(default=None, max_length=64)
    address1: str | None = Field(default=None, max_length=200)
    address2: str | None = Field(default=None, max_length=200)
    city: str | None = Field(default=None, max_length=100)
    state: str | None = Field(default=None, max_length=100)
    postcode: str | None = Field(default=None, max_length=20)
    country: str | None = Field(default=None, max_length=100)
    creditLimit: Any = None
    accountManagerId: int | None = Field(default=None, gt=0)
    commissionHolderId: int | None = Field(default=None, gt=0)
    # Custom-field values by slot, checked against their definitions by the
    # call-tracking surface (domain/tracking.py) before they get here.
    customFields: dict[str, str] | None = None

    @field_validator("accountNumber", mode="before")
    @classmethod
    def _account_number(cls, value: Any) -> Any:
        return None if value is None else validate_account_number(value)

    @field_validator("email")
    @classmethod
    def _email(cls, value: str | None) -> str | None:
        if value and ("@" not in value or value.startswith("@") or value.endswith("@")):
            raise ValueError("not an e-mail address")
        return value

    @field_validator("creditLimit", mode="before")
    @classmethod
    def _credit_limit(cls, value: Any) -> Decimal | None:
        return None if value is None else parse_money(value, field="creditLimit")


def parse_customer_write(data: Mapping[str, Any]) -> dict[str, Any]:
    """Validated fields that were present in ``data`` (explicit nulls kept, to clear)."""
    try:
        model = CustomerWrite.model_validate(dict(data))
    except PydanticError as error:
        first = error.errors()[0]
        where = ".".join(str(p) for p in first["loc"]) or None
        if first["type"] == "extra_forbidden":
            raise UnknownFieldError(f"unknown field '{where}'", field=where) from None
        raise ValidationError(f"{where}: {first['msg']}", field=where) from None
    except ValidationError:
        raise
    return {name: getattr(model, name) for name in model.model_fields_set}
