"""The device-registration views a platform routes to (as edx-ace 1.15 exposes them): ``GCMDeviceViewSet``
registers, lists and deactivates a user's FCM devices (django-push-notifications, Django REST framework).

Imported on first use, so that this module loads in a project without the ``push_notifications`` app.
"""

__all__ = ["GCMDeviceViewSet"]


def __getattr__(name):
    if name == "GCMDeviceViewSet":
        from push_notifications.api.rest_framework import GCMDeviceViewSet

        return GCMDeviceViewSet
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
