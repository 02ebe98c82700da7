"""Write the build's facts (version, platform, date, commit) to OUT_JSON for the PyInstaller spec
to bundle as ``desktopviz/_build_info.json``. Usage: python packaging/build_info.py OUT_JSON"""

from __future__ import annotations

import datetime
import json
import platform
import subprocess
import sys
from pathlib import Path

import desktopviz


def platform_tag() -> str:
    """linux-x86_64, windows-x86_64, macos-arm64, ..."""
    system = {"Darwin": "macos"}.get(platform.system(), platform.system().lower())
    machine = {"AMD64": "x86_64", "aarch64": "arm64"}.get(platform.machine(), platform.machine())
    return f"{system}-{machine}"


def git_commit(root: Path) -> str:
    """The checkout's short commit, with ``+`` when the work tree has changes; "" outside git."""

    def git(*args: str) -> str:
        done = subprocess.run(["git", "-C", str(root), *args], capture_output=True, text=True)
        if done.returncode != 0:
            raise OSError(done.stderr)
        return done.stdout.strip()

    try:
        commit = git("rev-parse", "--short", "HEAD")
        dirty = git("status", "--porcelain", "--untracked-files=no")
    except OSError:
        return ""
    return commit + ("+" if dirty else "")


def main(out: Path) -> None:
    """Write the facts to ``out``."""
    info = {
        "version": desktopviz.__version__,
        "platform": platform_tag(),
        "built": datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "commit": git_commit(Path(__file__).resolve().parent.parent),
        "python": platform.python_version(),
    }
    if platform.system() == "Linux":
        info["glibc"] = platform.libc_ver()[1]
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(info, indent=1) + "\n", encoding="utf-8")
    print(json.dumps(info))


if __name__ == "__main__":
    main(Path(sys.argv[1]))
