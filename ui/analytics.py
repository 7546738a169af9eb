"""Analytics page: what the work saved. Filters by brand kit and months; headline numbers (images created and
exported, hours saved, Rupiah saved against a photoshoot with the assumptions shown, net of the subscription,
GPU time and cost per accepted image); charts of usage and savings per month, success rate by pose category and
formats; the monthly table and a CSV download. The numbers are core.analytics' running totals (nothing is
recounted per view); the CSV link is the REST route, which the browser's session cookie opens."""
from __future__ import annotations

from urllib.parse import urlencode

import gradio as gr
import pandas as pd

from core.analytics import report as analytics_report
from core.catalog import brand_kits
from ui.charts import bars_html
from ui.common import Failed, act, choice_id, err, esc, header
from ui.i18n import message, number, t, tr
from ui.poses import named

ALL = "All brand kits"          # the filters' values for "no filter" (shown translated)
FIRST = "From the first month"
NOW = "Up to this month"
CSV_URL = "/api/analytics/export.csv"
TABLE_KEYS = ["analytics.th_month", "analytics.th_kind", "analytics.th_created", "analytics.th_exported",
              "analytics.th_seconds", "analytics.th_hours", "analytics.th_saved", "analytics.th_formats"]
TILE = ("display:grid;grid-template-columns:repeat(auto-fill,minmax(190px,1fr));gap:10px;margin:4px 0")
CARD = "border:1px solid var(--border-color-primary);border-radius:10px;padding:10px 12px"
BIG = "font-size:1.5em;font-weight:700;line-height:1.3"


def _hours(h: float, request=None) -> str:
    return number(request, h, ",.1f")   # 1,234.5 / 1.234,5


def _n(request, count: int, key: str, **values) -> str:
    """"1 poster" / "3 posters": `key`_one or `key`_many with {n}."""
    return tr(request, f"{key}_one" if count == 1 else f"{key}_many", n=count, **values)


def table_headers(request=None) -> list[str]:
    return [tr(request, k) for k in TABLE_KEYS]


def _kind(request, design_type: str) -> str:
    return tr(request, f"analytics.type.{design_type}")


def _tile(elem_id: str, label: str, value: str, note: str = "") -> str:
    small = f"<div class='apg-meta'>{esc(note)}</div>" if note else ""
    return (f"<div style='{CARD}' id='{esc(elem_id)}'><div class='apg-meta'>{esc(label)}</div>"
            f"<div style='{BIG}' class='analytics-value'>{esc(value)}</div>{small}</div>")


def headline_html(report: dict, request=None) -> str:
    h, a = report["headline"], report["assumptions"]
    months = len(report["filters"]["months"])
    def money(amount):
        return number(request, amount, "rp")

    cost = "—" if h["costPerAcceptedImageIdr"] is None else money(h["costPerAcceptedImageIdr"])
    made = bool(h["imagesCreated"] or h["postersCreated"] or h["avatarsCreated"] or h["exported"])
    rate = "—" if h["successRate"] is None else number(request, h["successRate"] * 100, ".0f") + "%"

    def say(key, **values):
        return tr(request, key, **values)

    tiles = [
        _tile("analytics-images-created", say("analytics.images_created"),
              number(request, h["imagesCreated"], ","),
              f"{_n(request, h['postersCreated'], 'analytics.posters')} · "
              f"{_n(request, h['avatarsCreated'], 'analytics.avatars')}"),
        _tile("analytics-exported", say("analytics.exported"), number(request, h["exported"], ",")),
        _tile("analytics-hours-saved", say("analytics.hours_saved"), _hours(h["hoursSaved"], request),
              say("analytics.minutes_per_image", n=f"{a['minutesSavedPerImage']:g}")),
        _tile("analytics-savings", say("analytics.savings"), money(h["savingsIdr"]),
              say("analytics.up_to", amount=money(h["savingsHighIdr"]))),
        # nothing made yet: no saving to speak of (not "-Rp 299.000" for a new shop)
        _tile("analytics-net", say("analytics.net"), money(h["netSavingsIdr"]) if made else "—",
              _n(request, months, "analytics.months", amount=money(h["subscriptionIdr"])) if made
              else say("analytics.net_nothing_yet", amount=money(a["subscriptionIdrPerMonth"]))),
        _tile("analytics-gpu", say("analytics.gpu"),
              say("analytics.seconds", n=number(request, h["gpuSeconds"], ",.0f")),
              say("analytics.gpu_rate", amount=money(h["gpuCostIdr"]), rate=money(a["gpuCostPerHourIdr"]))),
        _tile("analytics-cost-per-image", say("analytics.cost_per_image"), cost,
              say("analytics.accepted_line", accepted=h["acceptedImages"], failed=h["failedImages"], rate=rate)
              + (" · " + say("analytics.not_checked_line", n=h["notCheckedImages"]) if h["notCheckedImages"] else "")),
    ]
    return f"<div id='analytics-tiles' style='{TILE}'>{''.join(tiles)}</div>"


def assumptions_html(report: dict, request=None) -> str:
    notes = "".join(f"<li>{esc(message(request, n))}</li>" for n in report["assumptions"]["noteMessages"])
    f = report["filters"]
    period = tr(request, "analytics.period", lo=f["from"], hi=f["to"])
    return (f"<details open><summary><b>{esc(tr(request, 'analytics.how'))}</b> {esc(period)}"
            f"</summary><ul>{notes}</ul></details>")


def frames(report: dict, request=None) -> dict[str, pd.DataFrame]:
    """The charts' data: usage (created per month and kind), savings (Rp per month: saved and net), success by
    pose category (%), formats (count). The series' column ("kind", "series") is named in the request's
    language: the charts' legend and tooltip show it."""
    kind, series = tr(request, "analytics.col_kind"), tr(request, "analytics.col_series")
    usage = pd.DataFrame([{"month": u["period"], kind: _kind(request, u["designType"]), "created": u["created"]}
                          for u in report["usage"]], columns=["month", kind, "created"])
    saved, net = tr(request, "analytics.series_saved"), tr(request, "analytics.series_net")
    savings = pd.DataFrame([row for s in report["savings"] for row in (
        {"month": s["period"], series: saved, "rupiah": s["savingsIdr"]},
        {"month": s["period"], series: net, "rupiah": s["netIdr"]})],
        columns=["month", series, "rupiah"])
    success = pd.DataFrame([{"category": named(request, "category", c["category"]),
                             "success %": round(c["successRate"] * 100, 1),
                             "images": c["done"] + c["failed"]} for c in report["successByCategory"]
                            if c["successRate"] is not None],   # only categories with measured outcomes
                           columns=["category", "success %", "images"])
    formats = pd.DataFrame([{"format": f["format"], "items": f["count"]} for f in report["formats"]],
                           columns=["format", "items"])
    return {"usage": usage, "savings": savings, "success": success, "formats": formats}


def table_rows(report: dict, request=None) -> list[list]:
    """The months and kinds with something created or exported."""
    return [[u["period"], _kind(request, u["designType"]), number(request, u["created"], ","),
             number(request, u["exported"], ","),
             "" if u["avgCreationSeconds"] is None else number(request, u["avgCreationSeconds"], ",.1f"),
             number(request, u["hoursSaved"], ",.1f"),
             number(request, u["savingsIdr"], "rp"),
             ", ".join(f"{k} {number(request, v, ',')}" for k, v in u["formats"].items())]
            for u in report["usage"] if u["created"] or u["exported"]]


def charts_html(report: dict, request=None) -> list[str]:
    """The four charts (usage, savings, success by category, formats) as HTML bars (ui/charts.py): every
    number in the page's language, one month as bars, wrapped category names, an empty chart that says so."""
    data = frames(report, request)
    kind, series = tr(request, "analytics.col_kind"), tr(request, "analytics.col_series")
    empty = tr(request, "analytics.chart_empty")

    def grouped(df, x, col, y):
        order, rows = [], {}
        for rec in df.to_dict("records"):
            if rec[x] not in rows:
                order.append(rec[x])
                rows[rec[x]] = {}
            rows[rec[x]][rec[col]] = rows[rec[x]].get(rec[col], 0) + rec[y]
        return [(k, rows[k]) for k in order], list(dict.fromkeys(df[col])) if len(df) else []

    usage, kinds = grouped(data["usage"], "month", kind, "created")
    savings, lines = grouped(data["savings"], "month", series, "rupiah")
    if not any(s_["savingsIdr"] for s_ in report["savings"]):
        savings = []      # nothing saved yet: no month of only "minus the subscription" bars
    count = lambda v: number(request, v, ",")  # noqa: E731
    return [
        bars_html("analytics-usage-chart", tr(request, "analytics.chart_usage"), usage, series=kinds, fmt=count,
                  empty=empty),
        bars_html("analytics-savings-chart", tr(request, "analytics.chart_savings"), savings, series=lines,
                  fmt=lambda v: number(request, v, "rp"), empty=empty),
        bars_html("analytics-success-chart", tr(request, "analytics.chart_success"),
                  [(r["category"], {"%": r["success %"]}) for r in data["success"].to_dict("records")],
                  series=["%"], fmt=lambda v: number(request, v, ".1f").removesuffix(",0").removesuffix(".0") + "%",
                  empty=empty),
        bars_html("analytics-formats-chart", tr(request, "analytics.chart_formats"),
                  [(r["format"], {"n": r["items"]}) for r in data["formats"].to_dict("records")], series=["n"],
                  fmt=count, empty=empty),
    ]


def csv_link(kit_id: int | None, period_from: str | None, period_to: str | None, request=None) -> str:
    params = {k: v for k, v in (("brandKitId", kit_id), ("from", period_from), ("to", period_to)) if v}
    href = CSV_URL + (f"?{urlencode(params)}" if params else "")
    return (f"<a id='analytics-csv' class='lg secondary' href='{esc(href)}' download>"
            f"{esc(tr(request, 'analytics.csv'))}</a>")


def month_choices(report: dict) -> list[str]:
    """The last 24 months and every month with data, newest first."""
    months = set(report["filters"]["months"])
    last = report["filters"]["to"]
    y, m = int(last[:4]), int(last[5:])
    for _ in range(24):
        months.add(f"{y}-{m:02d}")
        y, m = (y, m - 1) if m > 1 else (y - 1, 12)
    return sorted(months, reverse=True)


def build(services, demo: gr.Blocks) -> None:
    header(services, demo, "analytics.header")
    with gr.Row():
        kit = gr.Dropdown(label=t("analytics.kit"), choices=[(t("analytics.all_kits"), ALL)], value=ALL,
                          elem_id="analytics-kit")
        lo = gr.Dropdown(label=t("analytics.from"), choices=[(t("analytics.first_month"), FIRST)], value=FIRST,
                         elem_id="analytics-from")
        hi = gr.Dropdown(label=t("analytics.to"), choices=[(t("analytics.this_month"), NOW)], value=NOW,
                         elem_id="analytics-to")
    message_box = gr.HTML(elem_id="analytics-message")
    headline = gr.HTML(elem_id="analytics-headline")
    assumptions = gr.HTML(elem_id="analytics-assumptions")
    with gr.Row(elem_classes="apg-charts-row"):   # HTML bars: ui/charts.py (numbers in the page's language)
        usage = gr.HTML(elem_id="analytics-usage-box")
        savings = gr.HTML(elem_id="analytics-savings-box")
    with gr.Row(elem_classes="apg-charts-row"):
        success = gr.HTML(elem_id="analytics-success-box")
        formats = gr.HTML(elem_id="analytics-formats-box")
    table = gr.Dataframe(headers=table_headers(), interactive=False, wrap=True, elem_id="analytics-table")
    download = gr.HTML(elem_id="analytics-csv-box")
    filters = [kit, lo, hi]
    outputs = [message_box, headline, assumptions, usage, savings, success, formats, table, download, kit, lo, hi]

    def show(kit_choice, lo_choice, hi_choice, request: gr.Request):
        kit_id = choice_id(kit_choice)
        period_from = None if lo_choice in (None, "", FIRST) else lo_choice
        period_to = None if hi_choice in (None, "", NOW) else hi_choice

        def run(session, user):
            kits, _ = brand_kits.list_kits(session, user=user, limit=200)
            report = analytics_report.dashboard(session, user=user, brand_kit_id=kit_id, period_from=period_from,
                                         period_to=period_to, settings=services.settings)
            return report, [f"{k.id} · {k.brand_name}" for k in kits]
        try:
            report, kits = act(services, request, run, write=False)
        except Failed as exc:
            return err(str(exc)), *[gr.update()] * (len(outputs) - 1)
        months = [(m, m) for m in month_choices(report)]
        return ("", headline_html(report, request), assumptions_html(report, request),
                *charts_html(report, request),
                pd.DataFrame(table_rows(report, request), columns=table_headers(request)),
                csv_link(kit_id, period_from, period_to, request),
                gr.update(choices=[(tr(request, "analytics.all_kits"), ALL), *((k, k) for k in kits)]),
                gr.update(choices=[(tr(request, "analytics.first_month"), FIRST), *months]),
                gr.update(choices=[(tr(request, "analytics.this_month"), NOW), *months]))

    demo.load(show, inputs=filters, outputs=outputs)
    for f in filters:
        f.input(show, inputs=filters, outputs=outputs)
