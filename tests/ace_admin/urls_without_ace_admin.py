"""A URLconf without ace_admin's public pages (for the wiring check)."""

from django.contrib import admin
from django.urls import path

urlpatterns = [path("admin/", admin.site.urls)]
