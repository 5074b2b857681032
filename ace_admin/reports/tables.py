"""The tables of the report pages and the dashboard, built once and shown two ways: as HTML beside the charts and
as CSV (every table has its export; cells formula-escaped like the admin's other exports)."""

from __future__ import annotations

import csv
from dataclasses import dataclass
from datetime import date, datetime

from django.http import HttpResponse

from ace_admin.importing import escape_formula


class Percent(float):
    """A rate (0..1), shown as a percentage."""


def _rate(value) -> Percent | None:
    return None if value is None else Percent(value)


@dataclass
class Table:
    name: str  # in the CSV URL and file name
    title: str
    headers: list[str]
    rows: list[list]
    empty: str = "Nothing yet."
    csv_url: str = ""

    def display_rows(self) -> list[list[str]]:
        return [[display(cell) for cell in row] for row in self.rows]


def display(value) -> str:
    if value is None:
        return "–"
    if isinstance(value, Percent):
        return f"{value * 100:.2f}%"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, int):
        return f"{value:,}"
    if isinstance(value, datetime):
        return f"{value:%Y-%m-%d %H:%M}"
    if isinstance(value, date):
        return value.isoformat()
    return str(value)


def _csv_value(value) -> str:
    if value is None:
        return ""
    if isinstance(value, Percent):
        return f"{value * 100:.3f}%"
    if isinstance(value, datetime | date):
        return value.isoformat()
    return escape_formula(str(value))


def csv_response(table: Table, prefix: str) -> HttpResponse:
    response = HttpResponse(content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{prefix}-{table.name}.csv"'
    writer = csv.writer(response)
    writer.writerow(table.headers)
    for row in table.rows:
        writer.writerow([_csv_value(cell) for cell in row])
    return response


def funnel_table(funnel: dict) -> Table:
    f = funnel
    rows = [
        ["sent", f["sent"], None, ""],
        ["delivered", f["delivered"], _rate(f["delivery_rate"]), "of sent" if f["deliveries_reported"]
         else "of sent (the email service reports no deliveries: rates below use sent less hard bounces)"],
        ["opened (people)", f["opened"], _rate(f["open_rate"]), "of delivered"],
        ["clicked (people)", f["clicked"], _rate(f["click_rate"]), "of delivered"],
        ["clicked of opened", f["clicked"], _rate(f["click_to_open_rate"]), "of opened (click-to-open)"],
        ["bounced (hard)", f["bounced"], _rate(f["bounce_rate"]), "of sent (bounce rate)"],
        ["bounced (soft, for now)", f["soft_bounced"], None, ""],
        ["complained (spam reports)", f["complained"], _rate(f["complaint_rate"]), "of delivered (complaint rate)"],
        ["unsubscribed", f["unsubscribed"], _rate(f["unsubscribe_rate"]), "of delivered"],
        ["opens by people (all)", f["opens"], None, "every open, not only the first"],
        ["opens by machines", f["machine_opens"], None, "Apple Mail Privacy Protection, prefetchers: in no rate"],
        ["clicks by people (all)", f["clicks"], None, "every click, not only the first"],
        ["clicks by machines", f["machine_clicks"], None, "link scanners: in no rate"],
    ]
    return Table("funnel", "Funnel", ["step", "messages", "rate", "rate of"], rows)


def series_table(series: list[dict]) -> Table:
    rows = [[row["day"], row["sent"], row["delivered"], row["opened"], row["clicked"], row["bounced"],
             row["complained"], row["unsubscribed"], row["machine_opens"], row["machine_clicks"]] for row in series]
    return Table("series", "Per day (UTC)", ["day", "sent", "delivered", "first opens (people)",
                                             "first clicks (people)", "bounced (hard)", "complained", "unsubscribed",
                                             "opens by machines", "clicks by machines"], rows)


def links_table(links: list[dict], mask=None) -> Table:
    rows = [[mask(row["url"]) if mask else row["url"], row["people"], row["clicks"], row["machine_clicks"]]
            for row in links]
    return Table("links", "Clicks per link", ["link", "people who clicked", "clicks by people", "clicks by machines"],
                 rows, empty="No clicks recorded (or the messages carry no tracked links).")


def _breakdown(name: str, title: str, key: str, label, results: list[dict], empty: str) -> Table:
    rows = [[label(row[key]), row["sent"], row["delivered"], row["opened"], _rate(row["open_rate"]), row["clicked"],
             _rate(row["click_rate"]), row["bounced"], _rate(row["bounce_rate"]), row["complained"],
             _rate(row["complaint_rate"]), row["unsubscribed"]] for row in results]
    return Table(name, title, [key, "sent", "delivered", "opened", "open rate", "clicked", "click rate", "bounced",
                               "bounce rate", "complained", "complaint rate", "unsubscribed"], rows, empty=empty)


def languages_table(languages: list[dict]) -> Table:
    return _breakdown("languages", "Per language", "language", lambda value: value or "(not known)", languages,
                      "Nothing sent yet.")


def variants_table(variants: list[dict]) -> Table:
    """Each A/B variant's funnel, and how sure it is that its rate differs from the leading variant's."""
    rows = []
    for row in variants:
        note = f" — {row['note']}" if row.get("note") else ""
        name = f"{row['variant']} ({row['message_type']}){note}{' — winner' if row.get('winner') else ''}"
        rate = row["click_rate"] if row.get("metric", "clicked") == "clicked" else row["open_rate"]
        sure = ("leading" if row.get("leader") else
                "no data yet" if row.get("confidence") is None else Percent(row["confidence"]))
        rows.append([name, row["sent"], row["delivered"], row["opened"], _rate(row["open_rate"]), row["clicked"],
                     _rate(row["click_rate"]), row["bounced"], row["unsubscribed"], _rate(rate), sure])
    metric = "clicks" if not variants or variants[0].get("metric", "clicked") == "clicked" else "opens"
    return Table("variants", "Per A/B variant", [
        "variant", "sent", "delivered", "opened", "open rate", "clicked", "click rate", "bounced", "unsubscribed",
        f"rate compared (unique {metric})", "confidence the difference from the leader is real"], rows,
        empty="No A/B test: every message of this report is the same message.")


def runs_table(runs: list[dict]) -> Table:
    rows = [[row["campaign"], row["status"], row["started_at"], row["recipients"], row["done"], row["sent"],
             Percent(row["percent"] / 100)] for row in runs]
    return Table("runs", "Runs in progress", ["campaign", "status", "started", "recipients", "done", "sent",
                                              "progress"], rows, empty="No run is in progress.")


def attention_table(attention: list[dict], spike: dict | None) -> Table:
    rows = [[row["level"], row["subject"], row["what"], Percent(row["value"]), Percent(row["threshold"])]
            for row in attention]
    if spike:
        rows.append(["warning", "suppressions", f"{spike['last_day']} in the last 24 hours",
                     None, None])
        rows[-1][2] += f" (daily average before: {spike['daily_average']})"
    return Table("attention", "Needs attention", ["level", "what", "figure", "value", "threshold"], rows,
                 empty="Nothing above the thresholds.")
