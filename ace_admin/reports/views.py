"""The report pages (a campaign run, a message type, the list of reports) and their CSV exports; the dashboard's
context for the admin's landing page. Read only. Served under the admin's strict Content-Security-Policy: the
charts are SVG drawn here, the pages carry no script."""

from __future__ import annotations

import re
from urllib.parse import unquote

from django.core.exceptions import PermissionDenied
from django.http import Http404
from django.shortcuts import get_object_or_404
from django.template.response import TemplateResponse
from django.urls import reverse
from django.views.decorators.http import require_safe

from ace_admin.models import CampaignRun, MessageType
from ace_admin.preview.csp import ADMIN_POLICY, with_policy
from ace_admin.privacy.masking import can_see_addresses, mask_text
from ace_admin.reports import charts, queries, stats, tables

#: Staff holding any of these may read reports (every ACE role does).
READ_PERMISSIONS = ("ace_admin.view_deliverylog", "ace_admin.view_campaign", "ace_admin.view_campaignrun")
#: Periods a message type's report offers, in days.
PERIODS = (7, 30, 90)


def can_read_reports(user) -> bool:
    return bool(user and user.is_active and user.is_staff
                and any(user.has_perm(permission) for permission in READ_PERMISSIONS))


def _check(request) -> None:
    if not can_read_reports(request.user):
        raise PermissionDenied


def mask_url(url: str) -> str:
    """Addresses in a link (a personalised link may carry one: ``?email=ada@example.org``) masked, the rest kept:
    each part between ``/ ? & = #`` on its own, the decoded form too (``ada%40example.org``)."""
    parts = re.split(r"([/?&=#;])", url)
    return "".join(mask_text(unquote(part)) if "@" in unquote(part) else part for part in parts)


def report_tables(report: dict, user) -> list[tables.Table]:
    mask = None if can_see_addresses(user) else mask_url
    return [tables.funnel_table(report["funnel"]), tables.series_table(report["series"]),
            tables.links_table(report["links"], mask), tables.languages_table(report["languages"]),
            tables.variants_table(report["variants"])]


def dashboard_tables(data: dict) -> list[tables.Table]:
    return [tables.attention_table(data["attention"], data["suppression_spike"]), tables.runs_table(data["runs"]),
            tables.funnel_table(data["funnel"]), tables.series_table(data["series"])]


def _table(all_tables: list[tables.Table], name: str) -> tables.Table:
    for table in all_tables:
        if table.name == name:
            return table
    raise Http404("No such table.")


def _page(request, site, title: str, report: dict, csv_url, extra: dict) -> TemplateResponse:
    all_tables = report_tables(report, request.user)
    for table in all_tables:
        table.csv_url = csv_url(table.name)
    context = {
        **site.each_context(request), "title": title, "report": report, "tables": {t.name: t for t in all_tables},
        "funnel_chart": charts.funnel_chart("ace-funnel", f"Funnel: {title}", report["funnel"]),
        "series_chart": charts.series_chart("ace-series", f"Per day: {title}", report["series"]),
        **extra,
    }
    return TemplateResponse(request, "admin/ace_admin/reports/report.html", context)


@with_policy(ADMIN_POLICY)
@require_safe
def run_report(request, site, pk: int, table: str | None = None):
    _check(request)
    run = get_object_or_404(CampaignRun.objects.select_related("campaign", "campaign__message_type"), pk=pk)
    report = queries.report_for_run(run)
    if table:
        return tables.csv_response(_table(report_tables(report, request.user), table), f"run-{run.pk}")
    title = f"Run of {run.campaign.name}, {run.started_at:%Y-%m-%d %H:%M}"
    return _page(request, site, title, report,
                 lambda name: reverse("admin:ace_admin_reports_run_csv", args=[run.pk, name]),
                 {"run": run, "message_type": run.campaign.message_type,
                  "ab_decision": stats.describe(run.winner_figures) if run.winner else "",
                  "run_url": reverse("admin:ace_admin_campaignrun_change", args=[run.pk])})


@with_policy(ADMIN_POLICY)
@require_safe
def message_type_report(request, site, pk: int, table: str | None = None):
    _check(request)
    message_type = get_object_or_404(MessageType, pk=pk)
    try:
        days = int(request.GET.get("days", 30))
    except ValueError:
        days = 30
    days = days if days in PERIODS else 30
    report = queries.report_for_message_type(message_type, days)
    if table:
        return tables.csv_response(_table(report_tables(report, request.user), table),
                                   f"message-type-{message_type.pk}-{days}d")
    def csv_url(name):
        return reverse("admin:ace_admin_reports_type_csv", args=[message_type.pk, name]) + f"?days={days}"

    return _page(request, site, f"{message_type} — the last {days} days", report, csv_url,
                 {"message_type": message_type, "days": days, "periods": PERIODS})


@with_policy(ADMIN_POLICY)
@require_safe
def index(request, site):
    """Every report: recent campaign runs and the message types."""
    _check(request)
    runs = CampaignRun.objects.select_related("campaign").order_by("-started_at")[:100]
    types = MessageType.objects.order_by("app_label", "name")
    context = {**site.each_context(request), "title": "Reports", "runs": runs, "message_types": types}
    return TemplateResponse(request, "admin/ace_admin/reports/index.html", context)


@with_policy(ADMIN_POLICY)
@require_safe
def dashboard_csv(request, site, table: str):
    _check(request)
    return tables.csv_response(_table(dashboard_tables(queries.dashboard()), table), "dashboard")


def kpis(funnel: dict) -> list[tuple[str, str]]:
    """The dashboard's headline figures, as shown."""
    rate = tables.Percent
    return [(label, tables.display(value if kind is None or value is None else rate(value)))
            for label, value, kind in (
                ("sent", funnel["sent"], None), ("delivered", funnel["delivered"], None),
                ("opened", funnel["opened"], None), ("clicked", funnel["clicked"], None),
                ("bounce rate", funnel["bounce_rate"], rate), ("complaint rate", funnel["complaint_rate"], rate))]


def dashboard_context(request) -> dict:
    """What the dashboard on the admin's landing page shows (nothing for staff who may not read reports)."""
    if not can_read_reports(request.user):
        return {"show": False}
    data = queries.dashboard()
    all_tables = dashboard_tables(data)
    for table in all_tables:
        table.csv_url = reverse("admin:ace_admin_reports_dashboard_csv", args=[table.name])
    window = f"{data['first']:%Y-%m-%d} to {data['last']:%Y-%m-%d}"
    return {"show": True, "data": data, "kpis": kpis(data["funnel"]), "tables": {t.name: t for t in all_tables},
            "window": window,
            "funnel_chart": charts.funnel_chart("ace-dash-funnel", f"The last 7 days ({window})", data["funnel"]),
            "series_chart": charts.series_chart("ace-dash-series", "Per day, the last 7 days", data["series"]),
            "reports_url": reverse("admin:ace_admin_reports_index")}
