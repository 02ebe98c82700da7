#!/usr/bin/env bash
# Build the Linux installers from this checkout:
#   dist/desktopviz-<version>-linux-x86_64.tar.gz   the one-folder app (unpack, run ./desktopviz)
#   dist/desktopviz_<version>_amd64.deb              /opt/desktopviz, `desktopviz` on the PATH,
#                                                    menu entry, icon, AppStream, *.table.json type
# Usage: bash packaging/linux/build.sh   (PYTHON=python3.11 to choose the interpreter)
# The build environment (build/venv: the project's wheel and PyInstaller) is made on the first run
# and refreshed on later ones. Build on the oldest distribution you support: the bundle needs the
# glibc it was built with, and the .deb says so.
set -euo pipefail
cd "$(dirname "$0")/../.."
PYTHON=${PYTHON:-python3}
VENV=build/venv
APP_ID=org.desktopviz.DesktopViz
export PIP_DISABLE_PIP_VERSION_CHECK=1

started=$(date +%s.%N)
stamp=$started
step() {  # step NAME: print how long the previous step took
    local now
    now=$(date +%s.%N)
    awk -v name="$1" -v a="$now" -v b="$stamp" 'BEGIN { printf "%-34s %6.1f s\n", name, a - b }'
    stamp=$now
}

# 1. The build environment: the wheel of this checkout (not editable: what users get) + PyInstaller
if [ ! -x "$VENV/bin/pyinstaller" ]; then
    "$PYTHON" -m venv "$VENV"
    "$VENV/bin/pip" install -q -r packaging/build-requirements.txt
fi
rm -rf build/lib build/bdist.* # setuptools' in-tree build folders would ship deleted files
"$VENV/bin/pip" install -q --force-reinstall --no-deps . 2>&1 | grep -v "^WARNING: Location" || true
"$VENV/bin/pip" install -q . 2>&1 | grep -v "^WARNING: Location" || true
VERSION=$("$VENV/bin/python" -c "import desktopviz; print(desktopviz.__version__)")
step "environment (desktopviz $VERSION)"
packing=$stamp

# 2. The bundle
"$VENV/bin/python" packaging/make_icons.py build/icons >/dev/null
"$VENV/bin/python" packaging/build_info.py build/build_info.json >/dev/null
rm -rf build/dist/desktopviz
"$VENV/bin/pyinstaller" --noconfirm --log-level ERROR --distpath build/dist --workpath build/work \
    packaging/desktopviz.spec
step "bundle (PyInstaller)"

# Strip symbols from the shared libraries, except the ones auditwheel vendored into *.libs
# folders (numpy's and Pillow's: patchelf-edited, they break when stripped) and the executable
# (its archive is appended to it).
find build/dist/desktopviz/_internal -type f -name '*.so*' -not -path '*.libs/*' -print0 |
    xargs -0 -P "$(nproc)" -n 16 strip --strip-unneeded
step "strip"

BUNDLE=build/dist/desktopviz
mkdir -p dist

# 3. The tarball: desktopviz-<version>/ holding the app
TARBALL=dist/desktopviz-$VERSION-linux-x86_64.tar.gz
rm -rf build/tar && mkdir -p build/tar
cp -al "$BUNDLE" "build/tar/desktopviz-$VERSION"
tar -C build/tar -cf - "desktopviz-$VERSION" | gzip -9 > "$TARBALL.part"
mv "$TARBALL.part" "$TARBALL"
step "tarball"

# 4. The .deb
DEB=dist/desktopviz_${VERSION}_amd64.deb
ROOT=build/deb
rm -rf "$ROOT"
mkdir -p "$ROOT/DEBIAN" "$ROOT/opt" "$ROOT/usr/bin" "$ROOT/usr/share/applications" \
    "$ROOT/usr/share/metainfo" "$ROOT/usr/share/mime/packages" \
    "$ROOT/usr/share/icons/hicolor/scalable/apps" "$ROOT/usr/share/doc/desktopviz"
cp -al "$BUNDLE" "$ROOT/opt/desktopviz"
ln -s /opt/desktopviz/desktopviz "$ROOT/usr/bin/desktopviz"
RES=desktopviz/resources
install -m 644 "$RES/$APP_ID.desktop" "$ROOT/usr/share/applications/"
install -m 644 "$RES/$APP_ID.metainfo.xml" "$ROOT/usr/share/metainfo/"
install -m 644 "$RES/$APP_ID.mime.xml" "$ROOT/usr/share/mime/packages/$APP_ID.xml"
install -m 644 "$RES/icons/desktopviz.svg" "$ROOT/usr/share/icons/hicolor/scalable/apps/$APP_ID.svg"
cp -r build/icons/hicolor "$ROOT/usr/share/icons/"
install -m 644 packaging/linux/copyright "$ROOT/usr/share/doc/desktopviz/copyright"
install -m 755 packaging/linux/postrm "$ROOT/DEBIAN/postrm"

GLIBC=$(getconf GNU_LIBC_VERSION | awk '{print $2}')
DEPENDS="libc6 (>= $GLIBC)$(grep -v '^#' packaging/linux/system-libraries |
    awk 'NF { $1 = ""; sub(/^ +/, ""); print }' | sort -u | sed 's/^/, /' | tr -d '\n')"
sed -e "s/@VERSION@/$VERSION/" -e "s/@DEPENDS@/$DEPENDS/" \
    -e "s/@INSTALLED_SIZE@/$(du -sk --exclude=DEBIAN "$ROOT" | cut -f1)/" \
    packaging/linux/control.in > "$ROOT/DEBIAN/control"
find "$ROOT" -type d -exec chmod 755 {} +
dpkg-deb --root-owner-group -Zxz -z6 --build "$ROOT" "$DEB.part" >/dev/null
mv "$DEB.part" "$DEB"
step ".deb"

now=$(date +%s.%N)
packed=$(awk -v a="$now" -v b="$packing" 'BEGIN { print a - b }')
printf '%-34s %6.1f s\n' "bundle, tarball and .deb" "$packed" \
    "total, with the environment" "$(awk -v a="$now" -v b="$started" 'BEGIN { print a - b }')"
printf 'build seconds: %.1f\n' "$packed" > build/build-time.txt
ls -l "$TARBALL" "$DEB"
