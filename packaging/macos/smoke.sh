#!/usr/bin/env bash
# Smoke test of the macOS disk image, as an analyst meets it, from the repository root after
# packaging/macos/build.sh. The same steps and figures as packaging/linux/smoke.sh:
#   mount the .dmg, copy desktopviz.app out (as dragging it to Applications does), detach;
#   check its signature, Info.plist (version, document types) and Launch Services' registration;
#   run its executable with no Python on the PATH (env -i): --version, demo into a temporary
#   cache, import of a W&B artifact folder written by the real wandb SDK, table --filter,
#   gui --screenshot offscreen of the table and of --tab run (distinct colours counted), the
#   cold and warm start to the first painted window; open a *.table.json with `open -a` (Launch
#   Services delivers it as a QFileOpenEvent) and see it imported; print the targets.
# Needs a Python with the wandb SDK and Pillow: the project's test venv (PYTHON=.venv/bin/python,
# the default; python3 -m venv .venv && .venv/bin/pip install -e ".[test]").
# Usage: bash packaging/macos/smoke.sh [dist/desktopviz-<version>-macos-<arch>.dmg]
set -euo pipefail
cd "$(dirname "$0")/../.."
REPO=$PWD
[ "$(uname -s)" = Darwin ] || { echo "smoke.sh: run this on macOS" >&2; exit 1; }
PYTHON=${PYTHON:-$REPO/.venv/bin/python}
APP_ID=org.desktopviz.DesktopViz
VERSION=$("$PYTHON" -c "import desktopviz; print(desktopviz.__version__)")
ARCH=$(uname -m)
DMG=${1:-dist/desktopviz-$VERSION-macos-$ARCH.dmg}
[ -f "$DMG" ] || { echo "smoke.sh: no $DMG (run packaging/macos/build.sh)" >&2; exit 1; }
WORK=$(mktemp -d "${TMPDIR:-/tmp}/desktopviz-smoke.XXXXXX")
MOUNT=$WORK/mnt
cleanup() {
    if mount | grep -q " on $MOUNT "; then
        hdiutil detach -quiet "$MOUNT" || hdiutil detach -force -quiet "$MOUNT" || true
    fi
    if [ -n "${APP:-}" ]; then pkill -f "$APP/Contents/MacOS/desktopviz" 2>/dev/null || true; fi
    rm -rf "$WORK"
}
trap cleanup EXIT

# shellcheck source=packaging/smoke-lib.sh
source packaging/smoke-lib.sh
now() { "$PYTHON" -c 'import time; print(f"{time.time():.4f}")'; }

# -- the disk image --------------------------------------------------------------------------
say "disk image: mount, copy the app out"
mkdir -p "$MOUNT"
hdiutil attach -nobrowse -readonly -noautoopen -mountpoint "$MOUNT" "$DMG" >/dev/null
[ -L "$MOUNT/Applications" ] || fail "the disk image has no link to /Applications"
ditto "$MOUNT/desktopviz.app" "$WORK/desktopviz.app"
hdiutil detach -quiet "$MOUNT"
APP=$WORK/desktopviz.app
BIN=$APP/Contents/MacOS/desktopviz
[ -x "$BIN" ] || fail "no executable $BIN"
UNPACKED_BYTES=$(($(du -sk "$APP" | cut -f1) * 1024))

say "signature, Info.plist, Launch Services"
codesign --verify --deep --strict "$APP" || fail "codesign --verify"
PLIST=$APP/Contents/Info.plist
plutil -lint "$PLIST" >/dev/null || fail "plutil -lint"
plist() { plutil -extract "$1" raw "$PLIST"; }
[ "$(plist CFBundleShortVersionString)" = "$VERSION" ] || fail "CFBundleShortVersionString is not $VERSION"
[ "$(plist CFBundleIdentifier)" = "$APP_ID" ] || fail "CFBundleIdentifier is not $APP_ID"
[ "$(plist UTExportedTypeDeclarations.0.UTTypeIdentifier)" = org.desktopviz.table-json ] ||
    fail "Info.plist does not declare org.desktopviz.table-json"
ICON=$(plist CFBundleIconFile)
[ -f "$APP/Contents/Resources/$ICON" ] || [ -f "$APP/Contents/Resources/$ICON.icns" ] || fail "no icon"
LSREGISTER=/System/Library/Frameworks/CoreServices.framework/Frameworks/LaunchServices.framework/Support/lsregister
"$LSREGISTER" -f "$APP"
"$LSREGISTER" -dump | grep -q "org.desktopviz.table-json" ||
    fail "Launch Services does not know org.desktopviz.table-json"
echo "signed (ad hoc), Info.plist $VERSION, document types registered"

# -- the app, run with no Python on the PATH -------------------------------------------------
say "app: run with env -i"
mkdir -p "$WORK/home"
frozen() {
    env -i HOME="$WORK/home" PATH=/usr/bin:/bin ${QT_QPA_PLATFORM:+QT_QPA_PLATFORM=$QT_QPA_PLATFORM} \
        "$BIN" "$@"
}
smoke_frozen_app "macos-$ARCH"
smoke_frozen_sync

say "cold start to the first painted window (demo cache, the runner's window server)"
first_paint() {
    local start
    start=$(now)
    frozen --cache "$CACHE" gui --first-paint 2>/dev/null |
        awk -v s="$start" '/^first paint:/ { printf "%.3f", $3 - s }'
}
# the first run of a freshly copied app is the cold one (Gatekeeper also checks it then)
measure_first_paint

say "open a *.table.json with Launch Services (open -a: a QFileOpenEvent, as from Finder)"
OPEN_CACHE=$WORK/open-cache
TABLE=$WORK/open-me/demo-dataset/dataset_table.table.json
mkdir -p "$(dirname "$TABLE")"
cp -R "$DATASET/." "$(dirname "$TABLE")/"
open -n -a "$APP" --env "DESKTOPVIZ_CACHE=$OPEN_CACHE" "$TABLE"
imported=
for _ in $(seq 300); do
    if [ -f "$OPEN_CACHE/index.sqlite" ] &&
        frozen --cache "$OPEN_CACHE" ls 2>/dev/null | grep -q "dataset_table"; then
        imported=1
        break
    fi
    sleep 0.1
done
pkill -f "$BIN" || true
[ -n "$imported" ] || fail "the app opened by Launch Services did not import $TABLE"
echo "open -a: imported into the window's cache"
"$LSREGISTER" -u "$APP" || true

# -- targets ---------------------------------------------------------------------------------
say "targets"
target "unpacked app" "$(megabytes "$UNPACKED_BYTES")" 350 MB
printf '%-34s %8s MB\n' ".dmg" "$(megabytes "$(stat -f %z "$DMG")")"
target "cold start to first paint" "$COLD" 1.5 s
target "warm start to first paint (median)" "$WARM_MEDIAN" 1.5 s
echo "smoke test passed"
