"""A pytest plug-in for the edx-ace compatibility run: marks the upstream tests that ``run_upstream.XFAIL``
names as expected failures (strict: one that passes fails the run), with their reason. Nothing else is
skipped or changed, but for one thing: Hypothesis's per-example deadline (200 ms) is lifted, because on a busy
CI machine a single slow example fails a property test that says nothing about speed (edx-ace 1.5's
``test_serialization_roundtrip`` did: 353 ms once, 0.3 ms when re-run). Every example is still checked."""

import os

import pytest
from hypothesis import settings

settings.register_profile("ace-compat", deadline=None)
settings.load_profile("ace-compat")


def _expected() -> dict[str, str]:
    lines = os.environ.get("ACE_COMPAT_XFAIL", "").splitlines()
    return dict(line.split("\t", 1) for line in lines if "\t" in line)


def pytest_collection_modifyitems(config, items):
    expected = _expected()
    for item in items:
        reason = expected.get(item.nodeid)
        if reason:
            item.add_marker(pytest.mark.xfail(reason=reason, strict=True))
