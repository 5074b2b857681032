"""URLs of ace_admin's public pages (included by the project under ``ace/``)."""

from django.urls import path

from ace_admin.privacy import views as unsubscribe_views

app_name = "ace_admin"

urlpatterns = [
    path("unsubscribe/<str:token>/", unsubscribe_views.unsubscribe, name="unsubscribe"),
    path("preferences/<str:token>/", unsubscribe_views.preferences, name="preferences"),
]
