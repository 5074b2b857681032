"""Run edx-ace's own released test suites, unchanged, against this project's ``edx_ace``.

    .venv/bin/python tests/compat/run_upstream.py            # edx-ace 1.5.0 and the newest release
    .venv/bin/python tests/compat/run_upstream.py 1.15.0     # one version

For each version it downloads the sdist from PyPI (``pip download --no-deps --no-binary :all:``), copies its
``edx_ace/tests`` folder unchanged into ``var/compat/<version>/tests`` and runs it with pytest under
``tests/compat/upstream_settings.py``. Nothing of edx-ace is committed to this repository.

The sdist leaves out three one-line test templates that edx-ace's repository has (its MANIFEST.in ships
``*.html`` but not ``*.txt``); the runner writes them, with the content they have upstream, next to the
copied ``body.html`` and ``head.html``:

    test_templates/testapp/edx_ace/testmessage/email/subject.txt     "template subject.txt"
    test_templates/testapp/edx_ace/testmessage/email/body.txt        "template body.txt"
    test_templates/testapp/edx_ace/testmessage/email/from_name.txt   "template from_name.txt"

The real edx-ace is never importable there: the copy keeps no ``edx_ace`` package folder, the runner
refuses to start when an ``edx-ace`` distribution is installed in this environment, and checks that
``import edx_ace`` gives this project's module before running anything.

Two upstream tests of 1.5.0 are expected to fail (``XFAIL`` below, with the reason: each asserts a 1.5
behaviour that edx-ace 1.15 changed, together with that very test; the README's "Differences from edx-ace"
table lists them too). Exits non-zero when any suite has a failure or error,
or ran no test. JUnit reports go to ``var/compat/<version>/report.xml``.
"""

from __future__ import annotations

import argparse
import importlib.metadata
import os
import re
import shutil
import subprocess
import sys
import tarfile
import xml.etree.ElementTree as ET
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
WORK = ROOT / "var" / "compat"
DOWNLOADS = WORK / "downloads"
OLDEST = "1.5.0"

#: The one-line templates edx-ace's repository has and its sdist leaves out: path -> content.
MISSING_TEMPLATES = {
    "testapp/edx_ace/testmessage/email/subject.txt": "template subject.txt",
    "testapp/edx_ace/testmessage/email/body.txt": "template body.txt",
    "testapp/edx_ace/testmessage/email/from_name.txt": "template from_name.txt",
}

#: Upstream tests expected to fail here, by version, with why: at most three in all, each asserting an
#: edx-ace behaviour that a later edx-ace release itself changed (the README's "Differences from edx-ace"
#: table lists them). Strict: one that passes fails the run.
XFAIL: dict[str, dict[str, str]] = {
    "1.5.0": {
        "tests/channel/test_braze.py::TestBrazeChannel::test_happy_path":
            "asserts that edx-ace 1.5 calls Braze with no timeout, so a Braze outage hangs the sending request "
            "forever; edx-ace 1.15's version of this test asserts timeout=5 (ACE_DEFAULT_API_TIMEOUT), which "
            "ACE follows",
        "tests/test_presentation.py::TestRender::test_missing_renderer":
            "asserts that edx-ace 1.5 cannot render push notifications (UnsupportedChannelError for "
            "ChannelType.PUSH); edx-ace 1.15 added PushNotificationRenderer and changed this test to an "
            "unknown channel type, which ACE passes",
    },
}


def newest_version() -> str:
    """The newest edx-ace release on PyPI, from ``pip index versions``."""
    out = subprocess.run([sys.executable, "-m", "pip", "index", "versions", "edx-ace"],
                         capture_output=True, text=True, check=True).stdout
    match = re.search(r"^edx-ace \(([^)]+)\)", out, re.MULTILINE)
    if not match:
        sys.exit(f"cannot read the newest edx-ace version from pip index versions:\n{out}")
    return match.group(1)


def sdist(version: str) -> Path:
    """The sdist of ``version``, downloaded once into var/compat/downloads/."""
    DOWNLOADS.mkdir(parents=True, exist_ok=True)
    found = [path for path in DOWNLOADS.glob("edx*ace-*.tar.gz") if path.name.endswith(f"-{version}.tar.gz")]
    if not found:
        subprocess.run([sys.executable, "-m", "pip", "download", "--quiet", "--no-deps", "--no-binary", ":all:",
                        "--dest", str(DOWNLOADS), f"edx-ace=={version}"], check=True)
        found = [path for path in DOWNLOADS.glob("edx*ace-*.tar.gz") if path.name.endswith(f"-{version}.tar.gz")]
    if len(found) != 1:
        sys.exit(f"expected one sdist of edx-ace {version} in {DOWNLOADS}, found {found}")
    return found[0]


def prepare(version: str) -> Path:
    """Copy the suite of ``version`` into var/compat/<version>/tests (afresh) and add the missing templates."""
    scratch = WORK / version
    shutil.rmtree(scratch, ignore_errors=True)
    scratch.mkdir(parents=True)
    with tarfile.open(sdist(version)) as archive:
        members = [member for member in archive.getmembers()
                   if re.match(r"^[^/]+/edx_ace/tests/", member.name) and (member.isfile() or member.isdir())]
        if not any(member.name.endswith(".py") for member in members):
            sys.exit(f"the sdist of edx-ace {version} has no edx_ace/tests")
        for member in members:
            member.name = "tests/" + member.name.split("/edx_ace/tests/", 1)[1]
        archive.extractall(scratch, members=members, filter="data")
    templates = scratch / "tests" / "test_templates"
    for relative, content in MISSING_TEMPLATES.items():
        target = templates / relative
        if target.exists():
            continue  # a later sdist that ships it: keep upstream's own
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(content)
    return scratch


def check_isolation(env: dict) -> None:
    """Refuse to run when the real edx-ace could be imported instead of this project's ``edx_ace``."""
    try:
        dist = importlib.metadata.distribution("edx-ace")
    except importlib.metadata.PackageNotFoundError:
        pass
    else:
        sys.exit(f"edx-ace {dist.version} is installed in this environment ({dist.locate_file('')}); "
                 "uninstall it: these suites must run against this project's edx_ace.")
    origin = subprocess.run([sys.executable, "-c", "import edx_ace, ace; print(edx_ace.__file__); "
                             "import edx_ace.ace as m; assert m is ace.ace, 'edx_ace.ace is not ace.ace'"],
                            env=env, cwd=WORK, capture_output=True, text=True)
    location = origin.stdout.strip()
    if origin.returncode or Path(location).resolve() != (ROOT / "edx_ace" / "__init__.py"):
        sys.exit(f"import edx_ace does not give this project's module: {location or origin.stderr}")


def run(version: str, pytest_args: list[str]) -> dict:
    scratch = prepare(version)
    report = scratch / "report.xml"
    env = dict(os.environ, PYTHONPATH=str(ROOT), DJANGO_SETTINGS_MODULE="tests.compat.upstream_settings",
               ACE_COMPAT_TEMPLATES=str(scratch / "tests" / "test_templates"))
    env.pop("DATABASE_URL", None)
    check_isolation(env)
    # -c /dev/null: not this project's pytest configuration (its testpaths, markers, settings module).
    command = [sys.executable, "-m", "pytest", "-c", os.devnull, "--rootdir", str(scratch), "-p", "no:cacheprovider",
               "-p", "tests.compat.xfail_plugin", "--continue-on-collection-errors", "-q", "-rfEx",
               f"--junitxml={report}", "tests", *pytest_args]
    print(f"\n=== edx-ace {version}: its own tests (var/compat/{version}/tests) against {ROOT / 'edx_ace'}",
          flush=True)
    expected = XFAIL.get(version, {})
    env["ACE_COMPAT_XFAIL"] = "\n".join(f"{test}\t{reason}" for test, reason in expected.items())
    status = subprocess.run(command, cwd=scratch, env=env).returncode
    counts = {"version": version, "status": status, "tests": 0, "failures": 0, "errors": 0, "skipped": 0}
    if report.exists():
        root = ET.parse(report).getroot()
        suites = [root] if root.tag == "testsuite" else list(root.iter("testsuite"))
        for key in ("tests", "failures", "errors", "skipped"):
            counts[key] = sum(int(suite.get(key, 0)) for suite in suites)
    return counts


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("versions", nargs="*", help=f"edx-ace versions (default: {OLDEST} and the newest release)")
    parser.add_argument("--pytest-args", default="", help="extra pytest arguments, e.g. '-x -k braze'")
    options = parser.parse_args()
    versions = options.versions or list(dict.fromkeys([OLDEST, newest_version()]))
    results = [run(version, options.pytest_args.split()) for version in versions]
    failed = False
    print("\n=== edx-ace compatibility")
    for counts in results:
        ran = counts["tests"] - counts["skipped"]
        passed = ran - counts["failures"] - counts["errors"]
        bad = counts["status"] != 0 or counts["failures"] or counts["errors"] or ran < 1
        failed = failed or bad
        print(f"edx-ace {counts['version']}: {passed}/{counts['tests']} passed (failures {counts['failures']}, "
              f"errors {counts['errors']}, xfail/skipped {counts['skipped']}){'  FAILED' if bad else ''}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
