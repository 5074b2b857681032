"""A pytest plug-in for the edx-ace compatibility run: marks the upstream tests that ``run_upstream.XFAIL``
names as expected failures (strict: one that passes fails the run), with their reason. Nothing else is
skipped or changed."""

import os

import pytest


def _expected() -> dict[str, str]:
    lines = os.environ.get("ACE_COMPAT_XFAIL", "").splitlines()
    return dict(line.split("\t", 1) for line in lines if "\t" in line)


def pytest_collection_modifyitems(config, items):
    expected = _expected()
    for item in items:
        reason = expected.get(item.nodeid)
        if reason:
            item.add_marker(pytest.mark.xfail(reason=reason, strict=True))
