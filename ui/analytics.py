"""Analytics page: what the work saved. Filters by brand kit and months; headline numbers (images created and
exported, hours saved, Rupiah saved against a photoshoot with the assumptions shown, net of the subscription,
GPU time and cost per accepted image); charts of usage and savings per month, success rate by pose category and
formats; the monthly table and a CSV download. The numbers are core.analytics' running totals (nothing is
recounted per view); the CSV link is the REST route, which the browser's session cookie opens."""
from __future__ import annotations

from urllib.parse import urlencode

import gradio as gr
import pandas as pd

from core import analytics, brand_kits
from core.analytics_report import rupiah
from ui.common import Failed, act, choice_id, err, esc, header

ALL = "All brand kits"
FIRST = "From the first month"
NOW = "Up to this month"
CSV_URL = "/api/analytics/export.csv"
TYPE_LABEL = {"avatar": "Avatars", "pose": "Images", "poster": "Posters"}
TABLE_HEADERS = ["Month", "Kind", "Created", "Exported", "Avg. seconds", "Hours saved", "Saved (Rp)", "Formats"]
TILE = ("display:grid;grid-template-columns:repeat(auto-fill,minmax(190px,1fr));gap:10px;margin:4px 0")
CARD = "border:1px solid var(--border-color-primary);border-radius:10px;padding:10px 12px"
BIG = "font-size:1.5em;font-weight:700;line-height:1.3"


def _hours(h: float) -> str:
    return f"{h:,.1f}".replace(",", "X").replace(".", ",").replace("X", ".")   # 1.234,5 (Indonesian)


def _n(count: int, word: str) -> str:
    return f"{count} {word}{'' if count == 1 else 's'}"


def _tile(elem_id: str, label: str, value: str, note: str = "") -> str:
    small = f"<div class='apg-meta'>{esc(note)}</div>" if note else ""
    return (f"<div style='{CARD}' id='{esc(elem_id)}'><div class='apg-meta'>{esc(label)}</div>"
            f"<div style='{BIG}' class='analytics-value'>{esc(value)}</div>{small}</div>")


def headline_html(report: dict) -> str:
    h, a = report["headline"], report["assumptions"]
    months = len(report["filters"]["months"])
    cost = "—" if h["costPerAcceptedImageIdr"] is None else rupiah(h["costPerAcceptedImageIdr"])
    rate = "—" if h["successRate"] is None else f"{h['successRate'] * 100:.0f}%".replace(".", ",")
    tiles = [
        _tile("analytics-images-created", "Images created", f"{h['imagesCreated']:,}".replace(",", "."),
              f"{_n(h['postersCreated'], 'poster')} · {_n(h['avatarsCreated'], 'avatar')}"),
        _tile("analytics-exported", "Items exported", f"{h['exported']:,}".replace(",", ".")),
        _tile("analytics-hours-saved", "Hours saved", _hours(h["hoursSaved"]),
              f"{a['minutesSavedPerImage']:g} min per image"),
        _tile("analytics-savings", "Saved vs a photoshoot", rupiah(h["savingsIdr"]),
              f"up to {rupiah(h['savingsHighIdr'])}"),
        _tile("analytics-net", "Net of the subscription", rupiah(h["netSavingsIdr"]),
              f"{rupiah(h['subscriptionIdr'])} for {_n(months, 'month')}"),
        _tile("analytics-gpu", "GPU time", f"{h['gpuSeconds']:,.0f} s".replace(",", "."),
              f"{rupiah(h['gpuCostIdr'])} at {rupiah(a['gpuCostPerHourIdr'])}/hour"),
        _tile("analytics-cost-per-image", "GPU cost per accepted image", cost,
              f"{h['acceptedImages']} accepted · {h['failedImages']} failed · {rate} success"),
    ]
    return f"<div id='analytics-tiles' style='{TILE}'>{''.join(tiles)}</div>"


def assumptions_html(report: dict) -> str:
    notes = "".join(f"<li>{esc(n)}</li>" for n in report["assumptions"]["notes"])
    f = report["filters"]
    return (f"<details open><summary><b>How the savings are counted</b> ({esc(f['from'])} to {esc(f['to'])})"
            f"</summary><ul>{notes}</ul></details>")


def frames(report: dict) -> dict[str, pd.DataFrame]:
    """The charts' data: usage (created per month and kind), savings (Rp per month: saved and net), success by
    pose category (%), formats (count)."""
    usage = pd.DataFrame([{"month": u["period"], "kind": TYPE_LABEL[u["designType"]], "created": u["created"]}
                          for u in report["usage"]], columns=["month", "kind", "created"])
    savings = pd.DataFrame([row for s in report["savings"] for row in (
        {"month": s["period"], "series": "Saved", "rupiah": s["savingsIdr"]},
        {"month": s["period"], "series": "Net of subscription", "rupiah": s["netIdr"]})],
        columns=["month", "series", "rupiah"])
    success = pd.DataFrame([{"category": c["category"], "success %": round(c["successRate"] * 100, 1),
                             "images": c["done"] + c["failed"]} for c in report["successByCategory"]],
                           columns=["category", "success %", "images"])
    formats = pd.DataFrame([{"format": f["format"], "items": f["count"]} for f in report["formats"]],
                           columns=["format", "items"])
    return {"usage": usage, "savings": savings, "success": success, "formats": formats}


def table_rows(report: dict) -> list[list]:
    """The months and kinds with something created or exported."""
    return [[u["period"], TYPE_LABEL[u["designType"]], u["created"], u["exported"],
             "" if u["avgCreationSeconds"] is None else u["avgCreationSeconds"], u["hoursSaved"],
             rupiah(u["savingsIdr"]), ", ".join(f"{k} {v}" for k, v in u["formats"].items())]
            for u in report["usage"] if u["created"] or u["exported"]]


def csv_link(kit_id: int | None, period_from: str | None, period_to: str | None) -> str:
    params = {k: v for k, v in (("brandKitId", kit_id), ("from", period_from), ("to", period_to)) if v}
    href = CSV_URL + (f"?{urlencode(params)}" if params else "")
    return (f"<a id='analytics-csv' class='lg secondary' href='{esc(href)}' download>"
            "⬇ Download the monthly numbers (CSV)</a>")


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
    header(services, demo, "Analytics",
           "What your photos saved you: hours, Rupiah against a photoshoot, and what the GPU time cost.")
    with gr.Row():
        kit = gr.Dropdown(label="Brand kit", choices=[ALL], value=ALL, elem_id="analytics-kit")
        lo = gr.Dropdown(label="From", choices=[FIRST], value=FIRST, elem_id="analytics-from")
        hi = gr.Dropdown(label="To", choices=[NOW], value=NOW, elem_id="analytics-to")
    message = gr.HTML(elem_id="analytics-message")
    headline = gr.HTML(elem_id="analytics-headline")
    assumptions = gr.HTML(elem_id="analytics-assumptions")
    with gr.Row():
        usage = gr.LinePlot(x="month", y="created", color="kind", title="Created per month", x_title="Month",
                            y_title="Items", x_label_angle=-45, elem_id="analytics-usage-chart")
        savings = gr.LinePlot(x="month", y="rupiah", color="series", title="Savings per month (Rp)",
                              x_title="Month", y_title="Rupiah", x_label_angle=-45,
                              elem_id="analytics-savings-chart")
    with gr.Row():
        success = gr.BarPlot(x="category", y="success %", title="Success rate by pose category", x_title="Category",
                             y_title="Accepted (%)", y_lim=[0, 100], elem_id="analytics-success-chart")
        formats = gr.BarPlot(x="format", y="items", title="Formats (exports and posters)", x_title="Format",
                             y_title="Items", y_lim=[0, None], elem_id="analytics-formats-chart")
    table = gr.Dataframe(headers=TABLE_HEADERS, interactive=False, wrap=True, elem_id="analytics-table")
    download = gr.HTML(elem_id="analytics-csv-box")
    filters = [kit, lo, hi]
    outputs = [message, headline, assumptions, usage, savings, success, formats, table, download, kit, lo, hi]

    def show(kit_choice, lo_choice, hi_choice, request: gr.Request):
        kit_id = choice_id(kit_choice)
        period_from = None if lo_choice in (None, "", FIRST) else lo_choice
        period_to = None if hi_choice in (None, "", NOW) else hi_choice

        def run(session, user):
            kits, _ = brand_kits.list_kits(session, user=user, limit=200)
            report = analytics.dashboard(session, user=user, brand_kit_id=kit_id, period_from=period_from,
                                         period_to=period_to, settings=services.settings)
            return report, [f"{k.id} · {k.brand_name}" for k in kits]
        try:
            report, kits = act(services, request, run)
        except Failed as exc:
            return err(str(exc)), *[gr.update()] * (len(outputs) - 1)
        data = frames(report)
        months = month_choices(report)
        return ("", headline_html(report), assumptions_html(report), data["usage"], data["savings"],
                data["success"], data["formats"], pd.DataFrame(table_rows(report), columns=TABLE_HEADERS),
                csv_link(kit_id, period_from, period_to),
                gr.update(choices=[ALL, *kits]), gr.update(choices=[FIRST, *months]), gr.update(choices=[NOW, *months]))

    demo.load(show, inputs=filters, outputs=outputs)
    for f in filters:
        f.input(show, inputs=filters, outputs=outputs)
