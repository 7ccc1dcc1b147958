"""Validation of writes to services, features, notes and note attachments
(pydantic). Imported only on write paths, so reads never pay for pydantic."""
from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any, Mapping

from pydantic import BaseModel, ConfigDict, Field, ValidationError as PydanticError, field_validator

from chalicelib.domain.common.files import display_file_name
from chalicelib.domain.errors import UnknownFieldError, ValidationError
from chalicelib.domain.money.amounts import parse_money


class _Write(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True, str_strip_whitespace=True)


def _money(value: Any, field: str) -> Decimal | None:
    return None if value is None else parse_money(value, field=field)


def _date(value: Any, field: str) -> str | None:
    if value is None:
        return None
    try:
        return date.fromisoformat(str(value)).isoformat()
    except ValueError:
        raise ValueError(f"{field} must be a date (YYYY-MM-DD)") from None


class _PricedWrite(_Write):
    """What services and features share: a name, a price and a start date."""

    name: str | None = Field(default=None, min_length=1, max_length=200)
    description: str | None = Field(default=None, max_length=2000)
    unitPrice: Any = None
    startDate: Any = None

    @field_validator("unitPrice", mode="before")
    @classmethod
    def _price(cls, value: Any) -> Decimal | None:
        return _money(value, "unitPrice")

    @field_validator("startDate", mode="before")
    @classmethod
    def _start(cls, value: Any) -> str | None:
        return _date(value, "startDate")


class ServiceWrite(_PricedWrite):
    quantity: int | None = Field(default=None, ge=0, le=1_000_000)
    reference: str | None = Field(default=None, max_length=100)


class FeatureWrite(_PricedWrite):
    pass


class NoteWrite(_Write):
    subject: str | None = Field(default=None, max_length=200)
    text: str | None = Field(default=None, min_length=1, max_length=20_000)


class AttachmentWrite(_Write):
    fileName: str | None = Field(default=None, min_length=1, max_length=255)
    description: str | None = Field(default=None, max_length=2000)

    @field_validator("fileName")
    @classmethod
    def _display_name(cls, value: str | None) -> str | None:
        # Kept as a safe display name, never used as a path (S3 keys are ids).
        return None if value is None else display_file_name(value)


MODELS: dict[str, type[_Write]] = {
    "service": ServiceWrite, "feature": FeatureWrite, "note": NoteWrite, "noteAttachment": AttachmentWrite,
}
REQUIRED_ON_CREATE = {"service": ("name",), "feature": ("name",), "note": ("text",),
                      "noteAttachment": ("fileName",)}


def parse_write(resource: str, data: Mapping[str, Any], *, creating: bool) -> dict[str, Any]:
    """Validated fields present in ``data`` (explicit nulls kept, to clear)."""
    try:
        model = MODELS[resource].model_validate(dict(data))
    except PydanticError as error:
        first = error.errors()[0]
        where = ".".join(str(p) for p in first["loc"]) or None
        if first["type"] == "extra_forbidden":
            raise UnknownFieldError(f"unknown field '{where}'", field=where) from None
        message = str(first.get("ctx", {}).get("error") or first["msg"])
        raise ValidationError(f"{where}: {message}", field=where) from None
    values = {name: getattr(model, name) for name in model.model_fields_set}
    for name in REQUIRED_ON_CREATE[resource]:
        if (creating and values.get(name) is None) or (name in values and values[name] is None):
            raise ValidationError(f"{name} is required", field=name)
    return values
