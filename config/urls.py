"""URL routes of the ACE project."""

import re

from django.conf import settings
from django.contrib import admin
from django.urls import include, path, re_path
from django.views.generic import RedirectView

from ace_admin.content.assets import serve as serve_asset

urlpatterns = [
    path("", RedirectView.as_view(url="/admin/", permanent=False)),
    path("admin/", admin.site.urls),
    # Public pages linked from emails: unsubscribe and email preferences (ace_admin/urls.py).
    path("ace/", include("ace_admin.urls")),
]

# Uploaded images, when the default storage keeps them here (a storage with its own URLs serves them itself).
if settings.MEDIA_URL and not settings.MEDIA_URL.startswith(("http://", "https://", "//")):
    urlpatterns.append(re_path(rf"^{re.escape(settings.MEDIA_URL.lstrip('/'))}(?P<name>.+)$", serve_asset,
                               name="ace_media"))
