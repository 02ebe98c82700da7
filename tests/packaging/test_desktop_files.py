"""The desktop integration files the installers ship agree with each other and with the package:
one app id, one MIME type, the current version; and the freedesktop validators accept them."""

from __future__ import annotations

import configparser
import shutil
import subprocess
import xml.etree.ElementTree as ET

import pytest

import desktopviz
from desktopviz.resources import APP_ID, resource_path

MIME_NS = "{http://www.freedesktop.org/standards/shared-mime-info}"


def desktop_entry() -> configparser.SectionProxy:
    parser = configparser.ConfigParser(interpolation=None)
    parser.optionxform = str  # keys are case-sensitive
    parser.read(resource_path(f"{APP_ID}.desktop"), encoding="utf-8")
    return parser["Desktop Entry"]


def test_desktop_entry_metainfo_and_mime_type_agree() -> None:
    entry = desktop_entry()
    mime = ET.parse(resource_path(f"{APP_ID}.mime.xml")).getroot()
    (mime_type,) = mime.findall(f"{MIME_NS}mime-type")
    assert mime_type.get("type") in entry["MimeType"].split(";")
    assert mime_type.find(f"{MIME_NS}glob").get("pattern") == "*.table.json"
    assert entry["Icon"] == APP_ID
    assert entry["Exec"].split()[:2] == ["desktopviz", "open"]

    info = ET.parse(resource_path(f"{APP_ID}.metainfo.xml")).getroot()
    assert info.findtext("id") == APP_ID
    assert info.find("launchable").text == f"{APP_ID}.desktop"
    assert info.find("provides/mediatype").text == mime_type.get("type")
    newest = info.find("releases/release")
    assert newest.get("version") == desktopviz.__version__, "add a <release> for the new version"


def _validator(name: str) -> str:
    found = shutil.which(name)
    if found is None:
        pytest.skip(f"{name} is not installed (packaging/linux/smoke.sh apt-gets it)")
    return found


def test_desktop_file_validate_accepts_the_entry() -> None:
    tool = _validator("desktop-file-validate")
    done = subprocess.run(
        [tool, str(resource_path(f"{APP_ID}.desktop"))], capture_output=True, text=True
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert "error" not in done.stdout


def test_appstreamcli_accepts_the_metainfo() -> None:
    tool = _validator("appstreamcli")
    done = subprocess.run(
        [tool, "validate", "--no-net", str(resource_path(f"{APP_ID}.metainfo.xml"))],
        capture_output=True,
        text=True,
    )
    assert done.returncode == 0, done.stdout + done.stderr
