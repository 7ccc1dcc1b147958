"""Carrier API statistics and CDR files (seed 002): did_stats, tg_stats,
monthly_summary, daily_cdrs and their _termination twins. Origination is
inbound traffic (DIDs, and trunk groups by the trunk the call came in on);
termination is outbound traffic by termination trunk.

Extensions (not in the seed; docs/cdrs.md): ``cdr_upload`` hands a
tenant-level user a presigned S3 POST for one CDR file;
``cdr_upload_status`` tells what became of it (counts, refused rows)."""
from __future__ import annotations

from typing import TYPE_CHECKING

from chalice import Response

from chalicelib.api.carrier.dialect import Call, endpoint, ok
from chalicelib.api.carrier.errors import InvalidParameter
from chalicelib.lazy import lazy

if TYPE_CHECKING:
    from chalicelib.services.calls import stats as cdr_stats
    from chalicelib.services.calls import uploads as cdr_uploads
else:
    cdr_stats = lazy("chalicelib.services.calls.stats")
    cdr_uploads = lazy("chalicelib.services.calls.uploads")


def _ids(call: Call, name: str) -> list[str]:
    return [i for i in call.require(name).split(",") if i.strip()]


@endpoint("did_stats")
def did_stats(call: Call) -> Response:
    return ok(data=cdr_stats.overall_stats(principal=call.principal, customer=call.customer, kind="DID",
                                           ids=_ids(call, "number"), field="number"))


@endpoint("tg_stats")
def tg_stats(call: Call) -> Response:
    return ok(data=cdr_stats.overall_stats(principal=call.principal, customer=call.customer, kind="TG",
                                           ids=_ids(call, "tg_id"), field="tg_id"))


@endpoint("tg_stats_termination")
def tg_stats_termination(call: Call) -> Response:
    return ok(data=cdr_stats.overall_stats(principal=call.principal, customer=call.customer, kind="TERM",
                                           ids=_ids(call, "tg_id"), field="tg_id"))


def _monthly(call: Call, kind: str) -> Response:
    month_text = call.get("month")
    try:
        year = int(call.require("year"))
        month = int(month_text) if month_text else None
    except ValueError:
        raise InvalidParameter("year" if not (call.get("year") or "").isdigit() else "month") from None
    return ok(data=cdr_stats.monthly_summary(principal=call.principal, customer=call.customer, kind=kind,
                                             year=year, month=month))


@endpoint("monthly_summary")
def monthly_summary(call: Call) -> Response:
    return _monthly(call, "DID")


@endpoint("monthly_summary_termination")
def monthly_summary_termination(call: Call) -> Response:
    return _monthly(call, "TERM")


def _daily(call: Call, direction: str) -> Response:
    return ok(data=cdr_stats.daily_files(principal=call.principal, customer=call.customer, direction=direction,
                                         first=call.require("from"), last=call.require("to")))


@endpoint("daily_cdrs")
def daily_cdrs(call: Call) -> Response:
    return _daily(call, "inbound")


@endpoint("daily_cdrs_termination")
def daily_cdrs_termination(call: Call) -> Response:
    return _daily(call, "outbound")


@endpoint("cdr_upload", tenant_level=True)
def cdr_upload(call: Call) -> Response:
    # ``filename`` names the file; the answer is an S3 presigned POST: send
    # every entry of ``fields`` then the file as ``file`` to ``url``.
    found = cdr_uploads.upload_url(principal=call.principal, file_name=call.get("filename"))
    return ok(url=found["url"], fields=found["fields"], filename=found["name"],
              maxsize=str(found["maxBytes"]), expires=found["expiresAt"].replace("T", " ").rstrip("Z"))


@endpoint("cdr_upload_status", tenant_level=True)
def cdr_upload_status(call: Call) -> Response:
    # ``filename`` as cdr_upload answered it. ``state``: pending, processing,
    # done (with the counts and the first refused rows) or repeated.
    found = cdr_uploads.upload_status(principal=call.principal, file_name=call.get("filename"))
    summary = found.get("summary") or {}
    counts = {k: str(summary[k]) for k in ("rows", "accepted", "duplicate", "rejected") if k in summary}
    errors = [{k: str(v) for k, v in e.items()} for e in summary.get("errors", [])]
    return ok(state=found["state"], **counts, **({"errors": errors} if found["state"] == "done" else {}))
