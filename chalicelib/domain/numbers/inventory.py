"""Phone numbers of a tenant's inventory: their life cycle and the rules of
the inputs that name them. Pure Python: no AWS, no surface."""
from __future__ import annotations

import re
from dataclasses import dataclass
from decimal import Decimal
from typing import Any, Iterable

from chalicelib.domain.common.actions import Action, date_parameter, text_parameter
from chalicelib.domain.errors import ValidationError

LANDLINE = "landline"
TOLLFREE = "tollfree"
CATEGORIES = (LANDLINE, TOLLFREE)
# Toll-free NPAs of the NANP (8XX codes in service).
TOLLFREE_PREFIXES = ("800", "833", "844", "855", "866", "877", "888")

# Life cycle: available -> reserved (in a cart) -> active / inactive / cancelled.
AVAILABLE = "available"
RESERVED = "reserved"
ACTIVE = "active"
INACTIVE = "inactive"
CANCELLED = "cancelled"
OWNED = (ACTIVE, INACTIVE, CANCELLED)
# The carrier API's integer codes for owned numbers (getnumbers, updatenumber).
STATUS_CODES = {ACTIVE: "1", INACTIVE: "0", CANCELLED: "2"}
STATUS_BY_CODE = {v: k for k, v in STATUS_CODES.items()}

# The billing API's names for an owned number's states, and its actions: a
# dropped number stays the customer's, inactive (the carrier API's status 0),
# until reinstated; a cancelled one (the carrier API's status 2) is final.
STATUS_NAMES = {ACTIVE: "Active", INACTIVE: "Dropped", CANCELLED: "Cancelled"}
ACTIONS = {
    "drop": Action(
        "drop", lambda r, p: {"status": INACTIVE, "dateDrop": date_parameter(p, "dateDrop", default_today=True),
                              "statusReason": text_parameter(p, "statusReason")},
        valid_states=frozenset({ACTIVE}), optional=("dateDrop", "statusReason"),
        summary="Make an active number inactive; it stays the customer's. Optional dateDrop (default today)."),
    "reinstate": Action(
        "reinstate", lambda r, p: {"status": ACTIVE, "dateDrop": None, "statusReason": None},
        valid_states=frozenset({INACTIVE}), summary="Make a dropped (inactive) number active again."),
}

# A number a customer has from elsewhere, recorded by the billing API
# (never stock); outside the NANP it is kept as its E.164 text.
OWN_ORDER_TYPE = "Own"
INTERNATIONAL = "international"
# The shape only (ASCII digits: \d would take other scripts' digits too);
# phonenumbers decides whether such a number can exist.
_E164_OUTSIDE_NANP = re.compile(r"^\+[2-9][0-9]{6,14}$")

MAX_BULK = 1000
US_STATES = frozenset(
    "AL AK AZ AR CA CO CT DE DC FL GA HI ID IL IN IA KS KY LA ME MD MA MI MN MS MO MT NE NV NH NJ NM NY NC ND "
    "OH OK OR PA RI SC SD TN TX UT VT VA WA WV WI WY PR VI GU AS MP".split()
)
_TEN = re.compile(r"^[2-9][0-9]{2}[2-9][0-9]{6}$")
_NPANXX = re.compile(r"^[2-9][0-9]{2}[2-9][0-9]{2}$")


def parse_number(text: Any, *, field: str = "number") -> str:
    """A NANP number as its 10 digits; an 11-digit form with the leading 1 is accepted."""
    digits = str(text or "").strip()
    if digits.startswith("+"):
        digits = digits[1:]
    if len(digits) == 11 and digits.startswith("1"):
        digits = digits[1:]
    if not _TEN.match(digits):
        raise ValidationError(f"Invalid {field}", field=field)
    return digits


def parse_own_number(text: Any, *, field: str = "number") -> tuple[str, str]:
    """A number in E.164 (or a NANP number's 10 or 11 digits) -> (number as
    stored, category): a NANP number as its 10 digits (the inventory's key,
    so it can never be recorded beside the same number in stock), landline
    or tollfree; any other country's as "+<digits>", international."""
    value = str(text or "").strip()
    if _E164_OUTSIDE_NANP.match(value):
        if not _valid_e164(value):
            raise ValidationError(f"Invalid {field}: not a valid E.164 number", field=field)
        return value, INTERNATIONAL
    number = parse_number(value, field=field)
    return number, TOLLFREE if number[:3] in TOLLFREE_PREFIXES else LANDLINE


def _valid_e164(value: str) -> bool:
    """A number of a country's numbering plan: a known country code, a length
    that country uses (is_possible) and a range it assigns (is_valid)."""
    import phonenumbers  # its metadata is loaded on first use, not at import of the app

    try:
        parsed = phonenumbers.parse(value, None)
    except phonenumbers.NumberParseException:
        return False
    return phonenumbers.is_possible_number(parsed) and phonenumbers.is_valid_number(parsed)


def parse_numbers(text: Any, *, field: str = "number", limit: int = MAX_BULK) -> list[str]:
    """Comma-separated numbers, each validated, duplicates dropped, order kept."""
    parts = [p for p in (s.strip() for s in str(text or "").split(",")) if p]
    if not parts or len(parts) > limit:
        raise ValidationError(f"Invalid {field}", field=field)
    return list(dict.fromkeys(parse_number(p, field=field) for p in parts))


def parse_npanxx(text: Any, *, field: str = "npanxx") -> str:
    value = str(text or "").strip()
    if not _NPANXX.match(value):
        raise ValidationError(f"Invalid {field}", field=field)
    return value


def parse_state(text: Any, *, field: str = "state") -> str:
    value = str(text or "").strip().upper()
    if value not in US_STATES:
        raise ValidationError(f"Invalid {field}", field=field)
    return value


def parse_category(text: Any, *, field: str = "category") -> str:
    value = str(text or "").strip().lower().replace("-", "").replace(" ", "")
    if value not in CATEGORIES:
        raise ValidationError(f"Invalid {field}", field=field)
    return value


def parse_tfn_prefix(text: Any, *, field: str = "tfn_prefix") -> str:
    value = str(text or "").strip()
    if value not in TOLLFREE_PREFIXES:
        raise ValidationError(f"Invalid {field}", field=field)
    return value


def parse_quantity(text: Any, *, field: str = "quantity") -> int:
    try:
        value = int(str(text or "").strip())
    except ValueError:
        raise ValidationError(f"Invalid {field}", field=field) from None
    if not 1 <= value <= MAX_BULK:
        raise ValidationError(f"Invalid {field}", field=field)
    return value


@dataclass(frozen=True)
class Criteria:
    """Which available numbers a search or reservation draws from."""

    category: str
    state: str | None = None
    npanxx: str | None = None
    city: str | None = None
    tfn_prefix: str | None = None

    @property
    def group(self) -> str:
        # The availability partition: a state for landlines, a prefix for toll-free.
        return (self.tfn_prefix if self.category == TOLLFREE else self.state) or ""

    @property
    def sk_prefix(self) -> str:
        return self.npanxx or ""


def criteria(*, category: str, state: str | None, npanxx: str | None, city: str | None,
             tfn_prefix: str | None) -> Criteria:
    """Validated criteria; a landline search needs a state or an NPANXX (the
    caller resolves the NPANXX's state), a toll-free one a prefix."""
    cat = parse_category(category)
    if cat == TOLLFREE:
        return Criteria(category=cat, tfn_prefix=parse_tfn_prefix(tfn_prefix))
    st = parse_state(state) if state else None
    nxx = parse_npanxx(npanxx) if npanxx else None
    if st is None and nxx is None:
        raise ValidationError("Invalid state", field="state")
    return Criteria(category=cat, state=st, npanxx=nxx, city=(city or "").strip().upper() or None)


@dataclass(frozen=True)
class InventoryRow:
    number: str
    category: str
    state: str
    rate_center: str
    city: str
    monthly_price: Decimal
    setup_price: Decimal

    @property
    def group(self) -> str:
        return self.number[:3] if self.category == TOLLFREE else self.state

    @property
    def npanxx(self) -> str:
        return self.number[:6]


def order_amount(prices: Iterable[tuple[Decimal, Decimal]]) -> Decimal:
    """Sum of the setup and first month's prices of the numbers ordered."""
    return sum((monthly + setup for monthly, setup in prices), Decimal(0))
