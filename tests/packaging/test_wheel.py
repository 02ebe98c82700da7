"""The wheel carries its resources: installed (not editable) into a fresh venv, the window has
its icon and its style, and the desktop integration files are there for the installers."""

from __future__ import annotations

import json
import os
import shutil
import site
import subprocess
import sys
import textwrap
import venv
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]

pytest.importorskip("PySide6", reason="the window check needs PySide6 (the core CI venv has none)")

# Run inside the fresh venv: the window, built from the installed wheel, reports what it has.
WINDOW_CHECK = textwrap.dedent(
    """
    import json, os, sys
    os.environ["QT_QPA_PLATFORM"] = "offscreen"
    from PySide6.QtCore import qInstallMessageHandler
    warnings = []
    qInstallMessageHandler(lambda mode, context, message: warnings.append(message))
    import desktopviz
    from desktopviz.app.launch import create_application
    from desktopviz.app.main_window import MainWindow
    from desktopviz.app.state import AppState
    from desktopviz.resources import APP_ID, resource_path
    from desktopviz.store.cache import Cache

    app = create_application(["desktopviz"], "light")
    window = MainWindow(AppState(Cache(sys.argv[1])), remember=False)
    window.show()
    app.processEvents()
    image = window.windowIcon().pixmap(64, 64).toImage()
    centre = image.pixelColor(8, 40)  # on the tile, off the white frame
    files = [f"{APP_ID}.desktop", f"{APP_ID}.metainfo.xml", f"{APP_ID}.mime.xml", "style.qss"]
    print(json.dumps({
        "package": desktopviz.__file__,
        "icon_null": window.windowIcon().isNull(),
        "icon_centre": [centre.red(), centre.green(), centre.blue(), centre.alpha()],
        "style_sheet": app.styleSheet(),
        "icons_dir": resource_path("icons").as_posix(),
        "resources": {name: resource_path(name).is_file() for name in files},
        "warnings": warnings,
    }))
    window.close()
    """
)


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The project's wheel, built the way `pip install .` builds it, from a copy of the checkout's
    files (an in-tree build/ left by an earlier build would hide files missing from the wheel)."""
    source = tmp_path_factory.mktemp("source")
    listed = subprocess.run(
        ["git", "-C", str(REPO), "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    for name in filter(None, listed.split("\0")):
        if (REPO / name).is_file():
            (source / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(REPO / name, source / name)
    out = tmp_path_factory.mktemp("wheel")
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "-q", "--no-deps", "-w", str(out), str(source)],
        check=True,
        capture_output=True,
        timeout=600,
    )
    (found,) = out.glob("desktopviz-*.whl")
    return found


@pytest.fixture(scope="module")
def fresh_venv(wheel: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A new venv with the wheel installed (not editable). Its dependencies (Qt, pyarrow, ...)
    come from this test run's environment through a path entry, so the install takes seconds;
    the editable desktopviz of this environment is not on that path (its finder is a .pth hook,
    which a plain path entry does not run)."""
    root = tmp_path_factory.mktemp("venv") / "venv"
    venv.create(root, with_pip=False)
    python = root / "bin" / "python"
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "--python",
            str(python),
            "install",
            "-q",
            "--no-deps",
            str(wheel),
        ],
        check=True,
        capture_output=True,
        timeout=600,
    )
    purelib = subprocess.run(
        [str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
        check=True,
        capture_output=True,
        text=True,
    ).stdout.strip()
    Path(purelib, "zz_test_dependencies.pth").write_text("\n".join(site.getsitepackages()) + "\n")
    return root


def test_the_installed_wheel_has_its_icon_style_and_desktop_files(
    fresh_venv: Path, tmp_path: Path
) -> None:
    script = tmp_path / "check.py"
    script.write_text(WINDOW_CHECK)
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "PYTHONHOME")}
    out = subprocess.run(
        [str(fresh_venv / "bin" / "python"), str(script), str(tmp_path / "cache")],
        cwd=tmp_path,  # not the checkout, whose desktopviz/ would shadow the wheel's
        env=env,
        check=True,
        capture_output=True,
        text=True,
        timeout=300,
    )
    report = json.loads(out.stdout.strip().splitlines()[-1])
    assert report["package"].startswith(str(fresh_venv)), report["package"]
    assert not report["icon_null"]
    red, green, blue, alpha = report["icon_centre"]
    assert alpha == 255 and blue > 200 and red < 150, report["icon_centre"]  # the blue-violet tile
    sheet = report["style_sheet"]
    assert "QDockWidget::title" in sheet and "@ICONS@" not in sheet
    assert report["icons_dir"].startswith(str(fresh_venv))
    assert report["icons_dir"] in sheet  # the sheet's arrows and checkmarks point into the wheel
    assert all(report["resources"].values()), report["resources"]
    assert not [w for w in report["warnings"] if "Cannot open file" in w], report["warnings"]
