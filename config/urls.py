"""URL routes of the ACE project."""

from django.contrib import admin
from django.urls import include, path
from django.views.generic import RedirectView

urlpatterns = [
    path("", RedirectView.as_view(url="/admin/", permanent=False)),
    path("admin/", admin.site.urls),
    # Public pages linked from emails: unsubscribe and email preferences (ace_admin/urls.py).
    path("ace/", include("ace_admin.urls")),
]
