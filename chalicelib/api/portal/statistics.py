"""Statistics: calls, ASR, ACD and minutes per day of a number or trunk over
a chosen period, drawn as server-side SVG charts, with the period's totals
(the carrier API's did_stats/tg_stats figures) and the daily CDR files."""
from __future__ import annotations

from datetime import timedelta
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from chalice import Response

from chalicelib import clock
from chalicelib.api.portal import charts
from chalicelib.api.portal.customers import own_or_chosen
from chalicelib.api.portal.dialect import Visit, bp, serve
from chalicelib.domain.errors import ValidationError
from chalicelib.lazy import lazy

if TYPE_CHECKING:
    from chalicelib.services.calls import stats
    from chalicelib.services.numbers import inventory, trunks
else:
    stats = lazy("chalicelib.services.calls.stats")
    inventory = lazy("chalicelib.services.numbers.inventory")
    trunks = lazy("chalicelib.services.numbers.trunks")

DEFAULT_DAYS = 14
KINDS = {"DID": "number", "TG": "origination trunk", "TERM": "termination trunk"}


def _targets(visit: Visit, customer: dict[str, Any]) -> list[tuple[str, str]]:
    me = visit.me
    found = [(f"DID:{n['number']}", f"number {n['number']}")
             for n in inventory.owned_numbers(principal=me, customer=customer)]
    for direction, kind in (("origination", "TG"), ("termination", "TERM")):
        found += [(f"{kind}:{t['id']}", f"{KINDS[kind]} {t.get('title') or t['id']} ({t['id']})")
                  for t in trunks.list_trunks(principal=me, customer=customer, direction=direction)]
    return found


@bp.route("/statistics", methods=["GET"])
def statistics_page() -> Response:
    def handle(visit: Visit) -> Response:
        params = visit.query
        customer = own_or_chosen(visit, params.get("customer"))
        if customer is None:
            return visit.render("statistics.html", title="Statistics", customer=None)
        today = clock.today()
        last = params.get("to") or today.isoformat()
        first = params.get("from") or (today - timedelta(days=DEFAULT_DAYS - 1)).isoformat()
        targets = _targets(visit, customer)
        target = params.get("target") or (targets[0][0] if targets else "")
        context: dict[str, Any] = {}
        if target:
            kind, _, ident = target.partition(":")
            if kind not in KINDS or not ident:
                raise ValidationError("choose a number or a trunk", field="target")
            series = stats.daily_series(principal=visit.me, customer=customer, kind=kind, ident=ident,
                                        first=first, last=last)
            context = {"totals": series["totals"], "charts": _charts(series["days"]),
                       "files": stats.daily_files(principal=visit.me, customer=customer,
                                                  direction="outbound" if kind == "TERM" else "inbound",
                                                  first=first, last=last)}
        return visit.render("statistics.html", title="Statistics", customer=customer, targets=targets,
                            target=target, first=first, last=last, **context)
    return serve(handle)


def _charts(days: list[dict[str, Any]]) -> list[Any]:
    from markupsafe import Markup  # with Jinja2, on the first page only

    specs = [("chart-calls", "Calls", "calls", lambda d: d["processed"]),
             ("chart-asr", "Answer-seizure ratio", "%", lambda d: Decimal(d["asr"].rstrip("%"))),
             ("chart-acd", "Average call duration", "seconds", lambda d: Decimal(d["acd"])),
             ("chart-minutes", "Minutes of use", "minutes", lambda d: Decimal(d["mou"]))]
    # The SVG is built by charts.bar_chart with every text escaped: safe to insert as markup.
    return [Markup(charts.bar_chart(chart_id=chart_id, title=title, unit=unit,
                                    points=[(d["day"], value(d)) for d in days]))
            for chart_id, title, unit, value in specs]
