"""Push-notification device registration for platforms that send with the ``push_notification`` channel
(``edx_ace.push_notifications`` in edx-ace 1.15): the REST views of django-push-notifications."""
