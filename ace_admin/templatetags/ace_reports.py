"""``{% ace_dashboard %}``: the reports wing's dashboard, on the admin's landing page (not available to templates
staff write: the sandbox compiles only its listed libraries)."""

from django import template

from ace_admin.reports.views import dashboard_context

register = template.Library()


@register.inclusion_tag("admin/ace_admin/reports/dashboard.html", takes_context=True)
def ace_dashboard(context):
    request = context.get("request")
    return dashboard_context(request) if request is not None else {"show": False}
