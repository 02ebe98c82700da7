#!/usr/bin/env bash
# Smoke test of the Linux installers, as an analyst meets them: build them, run the unpacked
# tarball's app with no Python anywhere on its PATH, install the .deb, open a *.table.json by
# double-click (xdg-open) on a real X server, remove the package. Prints the size and time
# targets at the end. Needs root (apt-get, dpkg) and a Python with the `wandb` SDK to write a real
# W&B artifact folder (the project's test venv: PYTHON=.venv/bin/python, the default).
# Usage: bash packaging/linux/smoke.sh            (SMOKE_SKIP_BUILD=1: test the files in dist/)
set -euo pipefail
cd "$(dirname "$0")/../.."
REPO=$PWD
PYTHON=${PYTHON:-$REPO/.venv/bin/python}
APP_ID=org.desktopviz.DesktopViz
MIME=application/x-wandb-table+json
WORK=$(mktemp -d /tmp/desktopviz-smoke.XXXXXX)
XVFB_PID=
cleanup() {
    if [ -n "$XVFB_PID" ]; then kill "$XVFB_PID" 2>/dev/null || true; fi
    pkill -f /opt/desktopviz/desktopviz 2>/dev/null || true
    rm -rf "$WORK"
}
trap cleanup EXIT

# shellcheck source=packaging/smoke-lib.sh
source packaging/smoke-lib.sh
as_root() { if [ "$(id -u)" = 0 ]; then "$@"; else sudo "$@"; fi; }
apt_install() {
    local missing=()
    for package in "$@"; do
        dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q "ok installed" ||
            missing+=("$package")
    done
    if [ ${#missing[@]} -gt 0 ]; then
        echo "apt-get install ${missing[*]}"
        as_root apt-get update -qq
        as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
    fi
}

# The tools the build and this test use (the app's own system libraries come from the .deb).
apt_install binutils dpkg-dev xvfb xdotool xdg-utils desktop-file-utils shared-mime-info \
    libglib2.0-bin

# -- build -----------------------------------------------------------------------------------
if [ "${SMOKE_SKIP_BUILD:-}" != 1 ]; then
    say "build"
    bash packaging/linux/build.sh
fi
# bundle, tarball and .deb, without making build/venv (done once)
BUILD_SECONDS=$(sed -n 's/^build seconds: //p' build/build-time.txt 2>/dev/null || echo "?")
VERSION=$("$PYTHON" -c "import desktopviz; print(desktopviz.__version__)")
TARBALL=dist/desktopviz-$VERSION-linux-x86_64.tar.gz
DEB=dist/desktopviz_${VERSION}_amd64.deb
if [ ! -f "$TARBALL" ] || [ ! -f "$DEB" ]; then fail "the build made no $TARBALL or $DEB"; fi

# A desktop's system libraries: what the .deb declares (the ldd scan below checks it is enough)
DEPENDS=$(dpkg-deb -f "$DEB" Depends)
installable() { # each dependency's first alternative that is installed or that apt knows
    local dependency alternative candidate
    while read -r dependency; do
        for alternative in ${dependency//|/ }; do
            candidate=$(apt-cache policy "$alternative" 2>/dev/null | awk '/Candidate:/ { print $2 }')
            if dpkg-query -W -f='${Status}' "$alternative" 2>/dev/null | grep -q "ok installed" ||
                { [ -n "$candidate" ] && [ "$candidate" != "(none)" ]; }; then
                echo "$alternative"
                break
            fi
        done
    done < <(echo "$DEPENDS" | tr ',' '\n' | sed 's/([^)]*)//g')
}
# shellcheck disable=SC2046  # one word per package
apt_install $(installable)

# -- the tarball, run with no Python on the PATH ---------------------------------------------
say "tarball: unpack, run with env -i"
mkdir -p "$WORK/unpacked" "$WORK/home"
tar -C "$WORK/unpacked" -xzf "$TARBALL"
APP_DIR=$WORK/unpacked/desktopviz-$VERSION
APP=$APP_DIR/desktopviz
UNPACKED_BYTES=$(du -sb "$APP_DIR" | cut -f1)
frozen() { env -i HOME="$WORK/home" PATH=/usr/bin:/bin "$APP" "$@"; }
env -i PATH=/usr/bin:/bin sh -c 'command -v python3 python' | grep -q . &&
    echo "(the system has a python3; env -i keeps the app from any venv, PYTHONPATH or PYTHONHOME)"

smoke_frozen_app linux-x86_64
smoke_frozen_sync

say "ldd scan of the bundle"
find "$APP_DIR" -type f \( -name '*.so*' -o -name desktopviz \) -print0 |
    xargs -0 -n 32 ldd 2>/dev/null > "$WORK/ldd.txt" || true
if grep -q "not found" "$WORK/ldd.txt"; then
    grep "not found" "$WORK/ldd.txt" | sort -u
    fail "libraries not found"
fi
# each system library the bundle links directly comes from a package the .deb depends on
find "$APP_DIR" -type f -name '*.so*' -print0 | xargs -0 -n 32 readelf -d 2>/dev/null |
    sed -n 's/.*(NEEDED).*\[\(.*\)\]/\1/p' | sort -u > "$WORK/needed.txt"
undeclared=()
while read -r soname; do
    [ -n "$(find "$APP_DIR" -name "$soname" -print -quit)" ] && continue # bundled
    # (no early exits in these pipes: with pipefail, a writer cut off by SIGPIPE fails the script)
    path=$(ldconfig -p | awk -v s="$soname" '$1 == s && /x86-64/ && !p { print $NF; p = 1 }')
    [ -n "$path" ] || fail "$soname is neither bundled nor on the system"
    package=$({ dpkg -S "$(readlink -f "$path")" 2>/dev/null || dpkg -S "$path" 2>/dev/null ||
        true; } | awk -F: 'NR == 1 { print $1 }')
    case ", $DEPENDS," in
        *" $package "* | *" $package,"* | *"| $package"* | *"$package |"*) ;;
        *) [ "$package" = libc6 ] || undeclared+=("$soname ($package)") ;;
    esac
done < "$WORK/needed.txt"
[ ${#undeclared[@]} -eq 0 ] || fail "the bundle needs undeclared packages: ${undeclared[*]}"
echo "ldd: nothing missing; $(wc -l < "$WORK/needed.txt") libraries linked, all bundled or declared"

say "cold start to the first painted window (demo cache, Xvfb)"
Xvfb :91 -screen 0 1400x900x24 -nolisten tcp >/dev/null 2>&1 &
XVFB_PID=$!
for _ in $(seq 50); do DISPLAY=:91 xdotool getdisplaygeometry >/dev/null 2>&1 && break; sleep 0.1; done
first_paint() {
    local start
    start=$(date +%s.%N)
    env -i HOME="$WORK/home" PATH=/usr/bin:/bin DISPLAY=:91 "$APP" --cache "$CACHE" gui \
        --first-paint 2>/dev/null | awk -v s="$start" '/^first paint:/ { printf "%.3f", $3 - s }'
}
sync
if echo 3 2>/dev/null > /proc/sys/vm/drop_caches; then COLD_KIND="page cache dropped"; else
    COLD_KIND="first run after unpacking"; fi
measure_first_paint
echo "(cold: $COLD_KIND)"

# -- the .deb -------------------------------------------------------------------------------
say ".deb: install"
as_root dpkg -r desktopviz >/dev/null 2>&1 || true
as_root dpkg -i "$DEB" || as_root env DEBIAN_FRONTEND=noninteractive apt-get install -f -y -qq
dpkg-query -W -f='${Status}\n' desktopviz | grep -q "install ok installed" || fail "not installed"
env -i PATH=/usr/bin:/bin HOME="$WORK/home" desktopviz --version | grep -q "desktopviz $VERSION" ||
    fail "desktopviz --version from the PATH"
echo "on the PATH: $(command -v desktopviz) -> $(readlink -f "$(command -v desktopviz)")"
desktop-file-validate "/usr/share/applications/$APP_ID.desktop" || fail "desktop-file-validate"
if command -v appstreamcli >/dev/null; then
    appstreamcli validate --no-net "/usr/share/metainfo/$APP_ID.metainfo.xml" >/dev/null ||
        fail "appstreamcli validate"
fi
[ -f "/usr/share/icons/hicolor/256x256/apps/$APP_ID.png" ] || fail "no icon"
DEFAULT=$(env XDG_DATA_DIRS=/usr/local/share:/usr/share HOME="$WORK/home" xdg-mime query default "$MIME")
echo "xdg-mime query default $MIME: $DEFAULT"
[ "$DEFAULT" = "$APP_ID.desktop" ] || fail "desktopviz is not the default for $MIME"
TABLE=$WORK/open-me/demo-dataset/dataset_table.table.json
mkdir -p "$(dirname "$TABLE")"
cp -r "$DATASET/." "$(dirname "$TABLE")/"
FILETYPE=$(HOME="$WORK/home" xdg-mime query filetype "$TABLE")
echo "xdg-mime query filetype $(basename "$TABLE"): $FILETYPE"
[ "$FILETYPE" = "$MIME" ] || fail "*.table.json is not $MIME"

say ".deb: double-click a *.table.json (xdg-open on Xvfb)"
rm -rf "$WORK/home/.local/share/desktopviz" "$WORK/home/.config"
env -i HOME="$WORK/home" PATH=/usr/bin:/bin DISPLAY=:91 XDG_CURRENT_DESKTOP=GNOME \
    xdg-open "$TABLE" >"$WORK/xdg-open.log" 2>&1 &
title=
for _ in $(seq 300); do
    title=$(DISPLAY=:91 xdotool search --onlyvisible --name "dataset_table" getwindowname 2>/dev/null || true)
    [ -n "$title" ] && break
    sleep 0.1
done
[ -n "$title" ] || { cat "$WORK/xdg-open.log"; fail "no window showed the table"; }
echo "window: $title"
sleep 2
"$PYTHON" -c "
import sys; from PIL import ImageGrab
image = ImageGrab.grab(xdisplay=':91'); image.save(sys.argv[1])
print(len(image.convert('RGB').getcolors(1 << 24)))" "$WORK/xdg-open.png" > "$WORK/screen-colours.txt"
SCREEN_COLOURS=$(cat "$WORK/screen-colours.txt")
echo "screen: $SCREEN_COLOURS colours"
# the table's thumbnails: tens of thousands of colours (its Overview page alone has about 2,000)
[ "$SCREEN_COLOURS" -gt 10000 ] || fail "the window does not show the table's images"
if [ -n "${SMOKE_SHOTS:-}" ]; then cp "$WORK/xdg-open.png" "$SMOKE_SHOTS/"; fi
pkill -f /opt/desktopviz/desktopviz || true

say ".deb: remove"
as_root dpkg -r desktopviz >/dev/null
for path in /opt/desktopviz /usr/bin/desktopviz "/usr/share/applications/$APP_ID.desktop" \
    "/usr/share/mime/packages/$APP_ID.xml" "/usr/share/metainfo/$APP_ID.metainfo.xml" \
    "/usr/share/icons/hicolor/256x256/apps/$APP_ID.png"; do
    [ -e "$path" ] && fail "$path is left after dpkg -r"
done
echo "dpkg -r: nothing left in /opt/desktopviz"

# -- targets ---------------------------------------------------------------------------------
say "targets"
target "unpacked app" "$(megabytes "$UNPACKED_BYTES")" 350 MB
target ".deb" "$(megabytes "$(stat -c %s "$DEB")")" 95 MB
target "tarball" "$(megabytes "$(stat -c %s "$TARBALL")")" 130 MB
target "cold start to first paint" "$COLD" 1.5 s
target "warm start to first paint (median)" "$WARM_MEDIAN" 1.5 s
target "build: bundle, tarball, .deb" "$BUILD_SECONDS" 180 s
echo "smoke test passed"
