"""Request bodies of the billing platform API's OpenAPI description: every
field a client may send, which are required, and their limits, as the write
paths check them (domain/customers/account_input.py, domain/customers/item_input.py,
views.py, attachments.py, domain/common/actions.py). A body that does not match is
refused with 400; tests/surface/platform/test_openapi.py sends real bodies
through both."""
from __future__ import annotations

from typing import TYPE_CHECKING, Any, Mapping

from chalicelib.lazy import lazy

if TYPE_CHECKING:
    from chalicelib.domain.common import files
else:
    files = lazy("chalicelib.domain.common.files")

# Money as text (exact) or a JSON number: an optional sign, digits, an optional
# point and at most five decimals (domain/money/amounts.py refuses anything else).
# Fifteen digits at most before the point: amounts are below 10**15 (MAX_AMOUNT).
MONEY_PATTERN = r"^[+-]?[0-9]{1,15}(\.[0-9]{1,5})?$"
MONEY_LIMIT = 10**15
NOT_BLANK = r"\S"  # surrounding blanks are trimmed; a blank value is refused
CUSTOMER_TEXT = {"email": 254, "phone": 32, "contactName": 200, "companyNumber": 64, "address1": 200,
                 "address2": 200, "city": 100, "state": 100, "postcode": 20, "country": 100}


def _text(max_length: int, *, required: bool = False, **extra: Any) -> dict[str, Any]:
    """Optional text may be null (clears it); required text is 1+ non-blank characters."""
    if required:
        return {"type": "string", "minLength": 1, "maxLength": max_length, "pattern": NOT_BLANK, **extra}
    return {"type": "string", "maxLength": max_length, "nullable": True, **extra}


def _money(**extra: Any) -> dict[str, Any]:
    # null (clears it) is in the text branch: OpenAPI 3.0's nullable needs a type beside it.
    return {"oneOf": [{"type": "string", "pattern": MONEY_PATTERN, "nullable": True},
                      {"type": "number", "minimum": -MONEY_LIMIT, "maximum": MONEY_LIMIT, "exclusiveMinimum": True,
                       "exclusiveMaximum": True}],
            "description": "decimal text (exact) or a number; at most five decimals", **extra}


DATE = {"type": "string", "format": "date", "pattern": r"^[0-9]{4}-[0-9]{2}-[0-9]{2}$", "nullable": True,
        "description": "YYYY-MM-DD"}
ID = {"type": "integer", "minimum": 1, "maximum": 10**12 - 1}


def _body(properties: Mapping[str, Any], required: tuple[str, ...] = (), **extra: Any) -> dict[str, Any]:
    schema: dict[str, Any] = {"type": "object", "additionalProperties": False, "properties": dict(properties),
                              **extra}
    if required:
        schema["required"] = list(required)
    return schema


def _customer(*, creating: bool) -> dict[str, Any]:
    props: dict[str, Any] = {
        "customerName": _text(200, required=True), "name": _text(200, required=True, description="= customerName"),
        **{name: _text(limit) for name, limit in CUSTOMER_TEXT.items()},
        # An e-mail address has an '@' with something on both sides (or is empty: cleared).
        "email": _text(CUSTOMER_TEXT["email"], pattern=r"^(\s*|\s*[^@\s][\s\S]*@[\s\S]*[^@\s]\s*)$"),
        "creditLimit": _money(), "accountManagerID": {**ID, "nullable": True},
        "commissionHolderID": {**ID, "nullable": True},
    }
    if not creating:
        return _body(props, description="only the fields given change; read-only fields (id, status, balance, "
                                        "accountNumber, ...) are refused (400005)")
    props["accountNumber"] = {"oneOf": [{"type": "string", "pattern": r"^\s*[A-Za-z0-9][A-Za-z0-9_-]{0,31}\s*$"},
                                        {"type": "integer", "minimum": 0}],
                              "description": "chosen now (allocated when absent) and fixed afterwards"}
    return _body(props, anyOf=[{"required": ["customerName"]}, {"required": ["name"]}])


ITEMS: dict[str, tuple[dict[str, Any], tuple[str, ...]]] = {
    # resource -> (fields, required on create), as domain/customers/item_input.py checks them
    "Service": ({"name": _text(200, required=True), "description": _text(2000), "unitPrice": _money(),
                 "startDate": DATE, "quantity": {"type": "integer", "minimum": 0, "maximum": 1_000_000,
                                                 "nullable": True, "description": "default 1"},
                 "reference": _text(100)}, ("name",)),
    "Feature": ({"name": _text(200, required=True), "description": _text(2000), "unitPrice": _money(),
                 "startDate": DATE}, ("name",)),
    "Note": ({"subject": _text(200), "text": _text(20_000, required=True)}, ("text",)),
}


def _attachment_fields() -> dict[str, Any]:
    return {"fileName": _text(255, required=True, description="kept as a display name: its last path segment, "
                                                               "without control characters"),
            "description": _text(2000),
            "_fileSize": {"type": "integer", "minimum": 0, "description": "checked against the bytes received"},
            "_fileHash": {"type": "string", "pattern": r"^\s*[0-9a-fA-F]{40}\s*$", "description": "SHA-1, hex"},
            "_mimeType": {"type": "string", "maxLength": 255, "pattern": "/"}}


FILE_DETAILS = ("_fileSize", "_fileHash", "_mimeType", "_compression")


def _attachments() -> dict[str, Any]:
    fields = _attachment_fields()
    content = {"_fileContent": {"type": "string", "format": "byte", "minLength": 4,
                                "description": "the file, base64 (an empty file is refused)"},
               "_compression": {"type": "string", "enum": list(files.COMPRESSIONS),
                                "description": "how _fileContent was compressed before base64"}}
    return {
        "NoteAttachmentCreate": _body({**fields, **content}, ("fileName", "_fileContent")),
        # The file's details describe new bytes: without _fileContent none of them may be sent.
        "NoteAttachmentUpdate": _body({**fields, **content}, description="_fileContent replaces the file",
                                      anyOf=[{"required": ["_fileContent"]},
                                             {"not": {"anyOf": [{"required": [name]} for name in FILE_DETAILS]}}]),
        "NoteAttachmentUploadStart": _body(fields, ("fileName", "_fileSize", "_fileHash")),
        "NoteAttachmentMultipart": _body({
            "data": {"type": "string", "description": "JSON: fileName (default: the file part's name), "
                                                      "description, _fileSize, _fileHash, _mimeType"},
            "file": {"type": "string", "format": "binary"}}, ("file",)),
    }


def schemas() -> dict[str, Any]:
    out: dict[str, Any] = {"CustomerCreate": _customer(creating=True), "CustomerUpdate": _customer(creating=False)}
    for name, (fields, required) in ITEMS.items():
        out[f"{name}Create"] = _body({**fields, "customerID": {**ID, "description": "the customer in the path, "
                                                                                   "if given"}}, required)
        out[f"{name}CreateWithCustomer"] = _body({**fields, "customerID": ID}, (*required, "customerID"))
        out[f"{name}Update"] = _body(fields)
    number = {"number": {"type": "string", "pattern": r"^\s*(\+?1?[2-9][0-9]{2}[2-9][0-9]{6}|\+[2-9][0-9]{6,14})\s*$",
                         "description": "E.164 (+12065550123, +442071234567) or a NANP number's 10 digits"}}
    out["NumberAssign"] = _body({**number, "customerID": {**ID, "description": "the customer in the path, if given"}},
                                ("number",))
    out["NumberAssignWithCustomer"] = _body({**number, "customerID": ID}, ("number", "customerID"))
    out.update(_attachments())
    return out


# Parameters of actions, by name (domain/common/actions.py reads them).
ACTION_PARAMETERS: dict[str, Any] = {
    "dateDrop": DATE, "dateApproved": DATE, "dateCancelled": DATE, "statusReason": _text(500),
    "status": {"oneOf": [{"type": "string"}, {"type": "integer"}],
               "description": "an inactive customer status, by name or id (default Ex-Customer)"},
    "password": {"type": "string"}, "totpCode": {"type": "string"},
}


def action_body(actions: Mapping[str, Any]) -> dict[str, Any]:
    """The parameters any of ``actions`` takes; which action needs which is in its description."""
    names = sorted({p for a in actions.values() for p in (*a.required, *a.optional)})
    needs = [f"{n} requires {', '.join(a.required)}" for n, a in actions.items() if a.required]
    return _body({n: ACTION_PARAMETERS[n] for n in names},
                 description="; ".join(needs) or "no action takes parameters")


def user_actions() -> dict[str, Any]:
    from chalicelib.services.identity import users

    return users._user_actions()
