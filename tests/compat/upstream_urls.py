"""An empty URLconf for the edx-ace compatibility suites (Django wants one)."""

urlpatterns: list = []
