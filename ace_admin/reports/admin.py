"""Reports in the admin: the pages hang off the daily counters' admin entry (``EventDailyCount``, the table they
read), which is hidden from the app list; the dashboard becomes the admin's landing page through
``AdminSite.index_template`` (only when the site has none of its own, so a host project's choice wins)."""

from __future__ import annotations

from django.contrib import admin
from django.urls import path

from ace_admin.models import EventDailyCount
from ace_admin.reports import views

#: The admin index with the dashboard above the app list.
INDEX_TEMPLATE = "admin/ace_admin/reports/admin_index.html"


@admin.register(EventDailyCount)
class ReportsAdmin(admin.ModelAdmin):
    """No list or form of counter rows: their URL prefix carries the report pages, read only."""

    def get_model_perms(self, request):
        return {}  # not in the app list: the dashboard links to the reports

    def has_view_permission(self, request, obj=None):
        return views.can_read_reports(request.user)

    def _never(self, request, obj=None):
        return False

    has_add_permission = has_change_permission = has_delete_permission = _never  # read only

    def get_urls(self):
        site = self.admin_site

        def view(function):
            return site.admin_view(lambda request, **kwargs: function(request, site, **kwargs))

        return [
            path("", view(views.index), name="ace_admin_reports_index"),
            path("run/<int:pk>/", view(views.run_report), name="ace_admin_reports_run"),
            path("run/<int:pk>/<slug:table>.csv", view(views.run_report), name="ace_admin_reports_run_csv"),
            path("type/<int:pk>/", view(views.message_type_report), name="ace_admin_reports_type"),
            path("type/<int:pk>/<slug:table>.csv", view(views.message_type_report), name="ace_admin_reports_type_csv"),
            path("dashboard/<slug:table>.csv", view(views.dashboard_csv), name="ace_admin_reports_dashboard_csv"),
        ]


if admin.site.index_template is None:
    admin.site.index_template = INDEX_TEMPLATE
