"""Open an HTML file in headless Chromium (Debian's ``chromium`` package) and take its screenshot;
tests that need it skip, saying why, where Chromium is not installed
(``apt-get install -y chromium``)."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest

APT_LINE = "apt-get install -y chromium"


def chromium() -> str:
    """The Chromium executable (the test skips without one)."""
    for name in ("chromium", "chromium-browser"):
        found = shutil.which(name)
        if found:
            return found
    pytest.skip(f"headless Chromium is not installed ({APT_LINE})")


def screenshot(html: Path, out: Path, size: tuple[int, int] = (1200, 900)) -> Path:
    """Render ``html`` (a local file) in headless Chromium, offline, into the PNG ``out``."""
    profile = out.parent / f"{out.stem}-chromium-profile"
    profile.mkdir(parents=True, exist_ok=True)
    out.unlink(missing_ok=True)
    r = subprocess.run(
        [
            chromium(),
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-background-networking",
            "--no-first-run",
            "--disable-component-update",
            "--disable-sync",
            "--disable-extensions",
            f"--user-data-dir={profile}",
            f"--screenshot={out}",
            f"--window-size={size[0]},{size[1]}",
            html.resolve().as_uri(),
        ],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert out.is_file(), f"chromium wrote no screenshot (exit {r.returncode}): {r.stderr[-2000:]}"
    return out


def remote_references(text: str) -> list[str]:
    """Every http(s) or protocol-relative URL in a document (a self-contained one has none)."""
    return re.findall(r"(?:https?:)?//[\w.-]+\.[a-z]{2,}[^\s'\"<>)]*", text, flags=re.I)


def colour_near(png: Path, rgb: tuple[int, int, int], tolerance: int = 24) -> int:
    """How many pixels of ``png`` are within ``tolerance`` of ``rgb`` on every channel."""
    import numpy as np
    from PIL import Image

    pixels = np.asarray(Image.open(png).convert("RGB")).astype(int)
    close = np.all(np.abs(pixels - np.array(rgb)) <= tolerance, axis=-1)
    return int(close.sum())


def distinct_colours(png: Path) -> int:
    """How many distinct colours ``png`` has (a page of text has few; pictures have many)."""
    from PIL import Image

    with Image.open(png) as im:
        return len(im.convert("RGB").getcolors(maxcolors=1 << 24) or ())


SHOTS = Path("/work/notes/shots/i15")


def keep_shot(png: Path, name: str) -> None:
    """Copy a screenshot where people look at them, when that folder exists (a dev machine)."""
    if SHOTS.is_dir():
        shutil.copyfile(png, SHOTS / name)
