"""ace_admin's engine side (campaign service, tasks, loader) loads in a project without django.contrib.admin, as
the benchmarks' settings are: importing it must not need the admin's models (a worker-only settings module)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_django_setup_works_without_the_admin_app():
    script = ("import django; django.setup(); from django.conf import settings; "
              "assert 'django.contrib.admin' not in settings.INSTALLED_APPS; "
              "from ace_admin.campaigns import service; print('ok')")
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "bench.settings", "PYTHONPATH": str(ROOT)}
    result = subprocess.run([sys.executable, "-c", script], cwd=ROOT, env=env, capture_output=True, text=True,
                            timeout=120)
    assert result.returncode == 0, result.stderr[-2000:]
    assert result.stdout.strip().endswith("ok")
