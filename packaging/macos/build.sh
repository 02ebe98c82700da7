#!/usr/bin/env bash
# Build dist/desktopviz-<version>-macos-<arch>.dmg (arch: arm64 or x86_64, this Mac's) on macOS:
#
#   bash packaging/macos/build.sh            # PYTHON=python3.11 to pick the interpreter
#
# 1. a build venv in build/venv with PyInstaller (packaging/build-requirements.txt) and desktopviz
#    installed from its wheel (not editable: the frozen app sees the package as a user's does);
# 2. the icons (build/icons/desktopviz.icns) and build/build_info.json;
# 3. PyInstaller (packaging/desktopviz.spec) -> build/dist/desktopviz.app, whose Info.plist is
#    packaging/macos/Info.plist plus the version;
# 4. an ad-hoc signature (no Developer ID here: Gatekeeper asks the user once, right-click > Open);
# 5. a compressed disk image holding the app and a link to /Applications to drag it onto.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
cd "$ROOT"
[ "$(uname -s)" = Darwin ] || { echo "build.sh: run this on macOS" >&2; exit 1; }
started=$(date +%s)
PYTHON="${PYTHON:-python3}"
ARCH="$(uname -m)"

VENV="$ROOT/build/venv"
[ -x "$VENV/bin/python" ] || "$PYTHON" -m venv "$VENV"
PY="$VENV/bin/python"
export PIP_DISABLE_PIP_VERSION_CHECK=1
# PyInstaller at the version packaging/build-requirements.txt pins (as the Linux build), then this
# checkout's wheel (a rebuild of the same version must replace the previous build's package)
"$PY" -m pip install --quiet -r packaging/build-requirements.txt
rm -rf build/wheel build/lib build/bdist.* # in-tree build folders would ship deleted files
"$PY" -m pip wheel --quiet --no-deps --wheel-dir build/wheel .
"$PY" -m pip install --quiet build/wheel/desktopviz-*.whl
"$PY" -m pip install --quiet --force-reinstall --no-deps build/wheel/desktopviz-*.whl
VERSION="$("$PY" -c 'import desktopviz; print(desktopviz.__version__)')"
echo "desktopviz $VERSION ($ARCH)"

"$PY" packaging/make_icons.py build/icons
"$PY" packaging/build_info.py build/build_info.json
"$PY" -m PyInstaller --noconfirm --distpath build/dist --workpath build/work packaging/desktopviz.spec

APP="$ROOT/build/dist/desktopviz.app"
[ -x "$APP/Contents/MacOS/desktopviz" ] || { echo "build.sh: PyInstaller made no $APP" >&2; exit 1; }
plutil -lint "$APP/Contents/Info.plist"
codesign --force --deep -s - "$APP"
codesign --verify --deep --strict "$APP"

STAGE="$ROOT/build/dmg"
rm -rf "$STAGE"
mkdir -p "$STAGE" "$ROOT/dist"
ditto "$APP" "$STAGE/desktopviz.app"
ln -s /Applications "$STAGE/Applications"
DMG="$ROOT/dist/desktopviz-$VERSION-macos-$ARCH.dmg"
hdiutil create -volname desktopviz -srcfolder "$STAGE" -ov -format UDZO "$DMG"

echo "app (unpacked): $(du -sm "$APP" | cut -f1) MB"
echo "dmg: $DMG $(du -m "$DMG" | cut -f1) MB"
echo "build time: $(($(date +%s) - started)) s"
