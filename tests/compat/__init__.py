"""The edx-ace compatibility job: edx-ace's own released test suites run against this project's ``edx_ace``.

``run_upstream.py`` is the runner (``make compat``); ``upstream_settings.py`` the Django settings those
suites run with. Nothing of edx-ace is kept in this repository: the runner downloads the sdists.
"""
