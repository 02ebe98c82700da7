#!/usr/bin/env bash
# Build dist/desktopviz-<version>-x86_64.AppImage from the Linux one-folder bundle.
#
#   APPIMAGETOOL=/path/to/appimagetool bash packaging/appimage/build.sh
#   bash packaging/appimage/build.sh --appdir-only     # lay out build/appimage/AppDir only
#
# The bundle is $BUNDLE if set, else build/dist/desktopviz (packaging/linux/build.sh makes it),
# else the tarball dist/desktopviz-<version>-linux-x86_64.tar.gz unpacked (the release workflow
# hands the Linux job's tarball to the AppImage job). The AppDir holds:
#   AppRun                              -> execs usr/lib/desktopviz/desktopviz "$@"
#   usr/lib/desktopviz/                    the bundle
#   usr/bin/desktopviz                     symlink to it
#   org.desktopviz.DesktopViz.desktop      (also in usr/share/applications/)
#   org.desktopviz.DesktopViz.svg, .DirIcon, usr/share/icons/hicolor/...
#   usr/share/metainfo/org.desktopviz.DesktopViz.appdata.xml   (AppStream)
#   usr/share/mime/packages/org.desktopviz.DesktopViz.xml      (*.table.json)
# appimagetool is not on any package registry: the release workflow downloads a pinned,
# checksummed release and passes its path in $APPIMAGETOOL (an AppImage itself: run with
# APPIMAGE_EXTRACT_AND_RUN=1 where there is no FUSE). $APPIMAGE_RUNTIME, if set, is given to it
# as --runtime-file (else appimagetool fetches the type-2 runtime itself).
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
cd "$ROOT"
APP_ID=org.desktopviz.DesktopViz
APPDIR_ONLY=0
for arg in "$@"; do
  case "$arg" in
    --appdir-only) APPDIR_ONLY=1 ;;
    -h | --help)
      sed -n "2,21p" "$0"
      exit 0
      ;;
    *)
      echo "build.sh: unknown argument: $arg" >&2
      exit 2
      ;;
  esac
done

VERSION="$(sed -n 's/^__version__ = "\(.*\)"$/\1/p' desktopviz/__init__.py)"
[ -n "$VERSION" ] || { echo "build.sh: no __version__ in desktopviz/__init__.py" >&2; exit 1; }
WORK="$ROOT/build/appimage"
APPDIR="$WORK/AppDir"
OUT="$ROOT/dist/desktopviz-$VERSION-x86_64.AppImage"

BUNDLE="${BUNDLE:-}"
if [ -z "$BUNDLE" ]; then
  TARBALL="$ROOT/dist/desktopviz-$VERSION-linux-x86_64.tar.gz"
  if [ -x "$ROOT/build/dist/desktopviz/desktopviz" ]; then
    BUNDLE="$ROOT/build/dist/desktopviz"
  elif [ -f "$TARBALL" ]; then
    rm -rf "$WORK/unpacked"
    mkdir -p "$WORK/unpacked"
    tar -xzf "$TARBALL" -C "$WORK/unpacked"
    BUNDLE="$WORK/unpacked/desktopviz-$VERSION"
  else
    echo "build.sh: no bundle: run packaging/linux/build.sh first (or set BUNDLE)" >&2
    exit 1
  fi
fi
[ -x "$BUNDLE/desktopviz" ] || { echo "build.sh: $BUNDLE/desktopviz is not an executable" >&2; exit 1; }

# The freedesktop files travel in the bundle (package data); the checkout's are the fallback.
RESOURCES="$BUNDLE/_internal/desktopviz/resources"
[ -f "$RESOURCES/$APP_ID.desktop" ] || RESOURCES="$ROOT/desktopviz/resources"
for f in "$APP_ID.desktop" "$APP_ID.metainfo.xml" "$APP_ID.mime.xml" icons/desktopviz.svg; do
  [ -f "$RESOURCES/$f" ] || { echo "build.sh: missing $RESOURCES/$f" >&2; exit 1; }
done

rm -rf "$APPDIR"
mkdir -p "$APPDIR/usr/lib" "$APPDIR/usr/bin" "$APPDIR/usr/share/applications" \
  "$APPDIR/usr/share/metainfo" "$APPDIR/usr/share/mime/packages" \
  "$APPDIR/usr/share/icons/hicolor/scalable/apps"
# hard links where the bundle is on the same file system (fast, no extra space), else a copy
if ! cp -al "$BUNDLE" "$APPDIR/usr/lib/desktopviz" 2>/dev/null; then
  rm -rf "$APPDIR/usr/lib/desktopviz"
  cp -a "$BUNDLE" "$APPDIR/usr/lib/desktopviz"
fi
ln -s ../lib/desktopviz/desktopviz "$APPDIR/usr/bin/desktopviz"

cat >"$APPDIR/AppRun" <<'EOF'
#!/bin/sh
# AppImage entry point: the frozen desktopviz with the arguments given to the AppImage
# (no arguments: the window; `open PATH`: a file manager's double-click).
HERE="$(dirname "$(readlink -f "$0")")"
exec "$HERE/usr/lib/desktopviz/desktopviz" "$@"
EOF
chmod 755 "$APPDIR/AppRun"

install -m 644 "$RESOURCES/$APP_ID.desktop" "$APPDIR/$APP_ID.desktop"
install -m 644 "$RESOURCES/$APP_ID.desktop" "$APPDIR/usr/share/applications/$APP_ID.desktop"
# appimagetool looks for <desktop file id>.appdata.xml (the older name of AppStream metainfo)
install -m 644 "$RESOURCES/$APP_ID.metainfo.xml" "$APPDIR/usr/share/metainfo/$APP_ID.appdata.xml"
install -m 644 "$RESOURCES/$APP_ID.mime.xml" "$APPDIR/usr/share/mime/packages/$APP_ID.xml"
install -m 644 "$RESOURCES/icons/desktopviz.svg" "$APPDIR/$APP_ID.svg"
install -m 644 "$RESOURCES/icons/desktopviz.svg" "$APPDIR/usr/share/icons/hicolor/scalable/apps/$APP_ID.svg"
if [ -d "$ROOT/build/icons/hicolor" ]; then  # PNGs from packaging/make_icons.py, when built here
  cp -r "$ROOT/build/icons/hicolor/." "$APPDIR/usr/share/icons/hicolor/"
  cp "$ROOT/build/icons/hicolor/256x256/apps/$APP_ID.png" "$APPDIR/.DirIcon"
else
  ln -s "$APP_ID.svg" "$APPDIR/.DirIcon"
fi

echo "AppDir: $APPDIR ($(du -sm "$APPDIR" | cut -f1) MB)"
if [ "$APPDIR_ONLY" = 1 ]; then
  exit 0
fi

APPIMAGETOOL="${APPIMAGETOOL:-}"
if [ -z "$APPIMAGETOOL" ] || [ ! -x "$APPIMAGETOOL" ]; then
  echo "build.sh: set APPIMAGETOOL to an executable appimagetool (the release workflow downloads it)" >&2
  exit 1
fi
runtime_args=()
if [ -n "${APPIMAGE_RUNTIME:-}" ]; then
  runtime_args=(--runtime-file "$APPIMAGE_RUNTIME")
fi
mkdir -p "$ROOT/dist"
rm -f "$OUT"
ARCH=x86_64 APPIMAGE_EXTRACT_AND_RUN=1 "$APPIMAGETOOL" "${runtime_args[@]}" "$APPDIR" "$OUT"
chmod 755 "$OUT"
echo "AppImage: $OUT ($(du -m "$OUT" | cut -f1) MB)"
