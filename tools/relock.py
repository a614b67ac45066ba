"""Regenerate poetry.lock and requirements.lock on a machine whose index lacks per-release JSON.

Usage (from the repository root, with any Python 3.11+):

    python3 tools/relock.py            # poetry lock, export requirements.lock, check --lock
    python3 tools/relock.py --check    # only `poetry check --lock` and the export comparison

Why: Poetry's PyPI repository reads each release's metadata from the per-release JSON
endpoint (``pypi/<name>/<version>/json``). The configured index here serves the simple API
(PEP 503 HTML and PEP 691 JSON) but answers 404 for that endpoint, so a plain ``poetry lock``
stops with "Package X (version) not found".

What it does: runs Poetry (a pinned version, installed into a throwaway venv under /tmp when
the current interpreter does not have it) in-process, with one change: when the per-release
JSON endpoint is missing, release information is built from the simple JSON page instead,
the same way Poetry does it for any non-PyPI source (file hashes from the page, metadata from
the wheel itself). The lock file is written by Poetry's own Locker, so the format and the
content-hash are Poetry's. Without ``--regenerate`` Poetry keeps every existing pin.
"""

from __future__ import annotations

import argparse
import filecmp
import os
import subprocess
import sys
import tempfile
from pathlib import Path

POETRY_VERSION = "2.5.1"  # the version that wrote poetry.lock's header; keep them equal
EXPORT_PLUGIN_VERSION = "1.10.1"
VENV = Path(os.environ.get("RELOCK_VENV", "/tmp/healthdash-relock-venv"))
CACHE = Path(os.environ.get("RELOCK_CACHE", "/tmp/healthdash-relock-cache"))
ROOT = Path(__file__).resolve().parent.parent
EXPORT_ARGS = ["export", "-f", "requirements.txt", "--without-hashes", "--extras", "dev"]


def _ensure_poetry() -> None:
    """Re-execute this script under a venv that has the pinned Poetry, creating it if needed."""
    try:
        import poetry.__version__ as v

        if v.__version__ == POETRY_VERSION:
            return
    except ImportError:
        pass
    python = VENV / "bin" / "python"
    if Path(sys.prefix).resolve() == VENV.resolve():
        sys.exit(f"{VENV} does not provide poetry {POETRY_VERSION}")
    if not python.exists():
        subprocess.run([sys.executable, "-m", "venv", str(VENV)], check=True)
    subprocess.run(
        [
            str(python),
            "-m",
            "pip",
            "install",
            "-q",
            f"poetry=={POETRY_VERSION}",
            f"poetry-plugin-export=={EXPORT_PLUGIN_VERSION}",
        ],
        check=True,
    )
    os.execv(str(python), [str(python), __file__, *sys.argv[1:]])


def _patch_pypi_repository() -> None:
    """Fall back to the simple JSON page when the per-release JSON endpoint is missing."""
    from poetry.inspection.info import PackageInfo
    from poetry.repositories.exceptions import PackageNotFoundError
    from poetry.repositories.pypi_repository import PyPiRepository

    original = PyPiRepository._get_release_info

    def _get_release_info(self, name, version):  # type: ignore[no-untyped-def]
        try:
            return original(self, name, version)
        except PackageNotFoundError:
            pass
        self._log(f"No per-release JSON for {name} ({version}); using the simple page", "debug")
        page = self.get_page(name)
        links = list(page.links_for_version(name, version))
        data = PackageInfo(
            name=name,
            version=version.text,
            summary="",
            requires_dist=[],
            requires_python=None,
            files=[],
            yanked=page.yanked(name, version),
            cache_version=str(self.CACHE_VERSION),
        )
        return self._links_to_data(links, data)

    PyPiRepository._get_release_info = _get_release_info


def _poetry(*args: str) -> int:
    from cleo.io.inputs.argv_input import ArgvInput
    from poetry.console.application import Application

    print("+ poetry", " ".join(args), flush=True)
    app = Application()
    app.auto_exits(False)
    return app.run(ArgvInput(["poetry", *args]))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--check", action="store_true", help="verify only; change nothing")
    opts = parser.parse_args()

    _ensure_poetry()
    os.environ.setdefault("POETRY_CACHE_DIR", str(CACHE))
    os.environ.setdefault("POETRY_VIRTUALENVS_CREATE", "false")  # lock needs no project env
    _patch_pypi_repository()
    os.chdir(ROOT)

    if not opts.check:
        if rc := _poetry("lock"):
            return rc
        if rc := _poetry(*EXPORT_ARGS, "-o", "requirements.lock"):
            return rc
    if rc := _poetry("check", "--lock"):
        return rc
    with tempfile.TemporaryDirectory() as tmp:
        exported = Path(tmp) / "requirements.lock"
        if rc := _poetry(*EXPORT_ARGS, "-o", str(exported)):
            return rc
        if not filecmp.cmp(exported, ROOT / "requirements.lock", shallow=False):
            print("requirements.lock differs from `poetry export` of poetry.lock", file=sys.stderr)
            return 1
    print("poetry.lock and requirements.lock agree with pyproject.toml")
    return 0


if __name__ == "__main__":
    sys.exit(main())
