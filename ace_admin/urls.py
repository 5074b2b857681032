"""URLs of ace_admin's public pages (included by the project under ``ace/``)."""

from django.urls import include, path

from ace_admin.events import views as event_views
from ace_admin.privacy import views as unsubscribe_views

app_name = "ace_admin"

urlpatterns = [
    path("unsubscribe/<str:token>/", unsubscribe_views.unsubscribe, name="unsubscribe"),
    path("preferences/<str:token>/", unsubscribe_views.preferences, name="preferences"),
    # Events after sending (ace_admin/events/): ACE's open image and click redirects, bounce mail, and the
    # email services' webhooks (django-anymail's views: /ace/events/esp/<esp>/tracking/).
    path("t/o/<str:token>.gif", event_views.open_pixel, name="track_open"),
    path("t/c/<str:token>", event_views.click, name="track_click"),
    path("events/bounces/", event_views.bounce_mime, name="bounce_mime"),
    path("events/esp/", include("anymail.urls")),
]
