"""The wheel ships the library (ace, edx_ace, ace_admin); the runnable project and server pieces stay out of it."""

from __future__ import annotations

import tomllib
from pathlib import Path

from setuptools import find_packages

ROOT = Path(__file__).resolve().parents[2]
PROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text())


def test_the_wheel_packages_are_the_library_only():
    include = PROJECT["tool"]["setuptools"]["packages"]["find"]["include"]
    packages = find_packages(ROOT, include=include)
    assert {name.split(".")[0] for name in packages} == {"ace", "edx_ace", "ace_admin"}
    assert "ace_admin.content" in packages and "ace_admin.models" in packages and "ace.channel" in packages


def test_server_only_dependencies_are_an_extra():
    required = " ".join(PROJECT["project"]["dependencies"])
    server = " ".join(PROJECT["project"]["optional-dependencies"]["server"])
    for name in ("gunicorn", "whitenoise", "psycopg"):
        assert name not in required and name in server


def test_the_project_installs_the_server_extra_where_it_serves():
    assert "'.[test,server]'" in (ROOT / "Makefile").read_text()
    assert "'.[server]'" in (ROOT / "Dockerfile").read_text()
