#!/usr/bin/env bash
# Build build/hall-kiosk_<version>_<arch>.deb with plain dpkg-deb (docs/packaging.md says why not dh-virtualenv).
#
#   DEB_DEPENDS="pcscd fonts-wqy-microhei ..." scripts/build-deb.sh     (make deb passes the Makefile's APT_KIOSK)
#
# 1. wheels for the kiosk and every dependency into build/wheels (kept: a rerun builds only the kiosk's own wheel)
#    (--no-cache-dir: a wheel compiled earlier by another interpreter, e.g. a pyenv one, would carry its RPATH;
#    --use-pep517: Debian's pip 23.0 otherwise runs a setup.py-only sdist such as jieba's as a legacy
#    `setup.py bdist_wheel` without the wheel package, which fails on an empty wheel cache)
# 2. a virtualenv made by /usr/bin/python3 (never a developer's interpreter) staged under build/deb/root,
#    installed from those wheels only, then moved to its final path /usr/lib/hall-kiosk by rewriting the paths
#    pip wrote (script shebangs, activate scripts)
# 3. units, udev rules, session files, the example config, maintainer scripts; dpkg-deb --root-owner-group
set -euo pipefail
cd "$(dirname "$0")/.."
PY=/usr/bin/python3
PREFIX=/usr/lib/hall-kiosk
OUT=${OUT:-build}
WHEELS=$OUT/wheels
STAGE=$OUT/deb
ROOT=$STAGE/root
: "${DEB_DEPENDS:?set DEB_DEPENDS to the Debian packages the kiosk needs (make deb does)}"

# DEB_VERSION: another package version for the same code (the package test builds one to test an upgrade).
version=${DEB_VERSION:-$(sed -n 's/^__version__ = "\(.*\)"$/\1/p' kiosk/__init__.py)}
arch=$(dpkg --print-architecture)
pyver=$($PY -c 'import sys; print(f"{sys.version_info[0]}.{sys.version_info[1]}")')
[ -n "$version" ] || { echo "!! no __version__ in kiosk/__init__.py" >&2; exit 1; }
umask 022

echo ">> wheels into $WHEELS (cached)"
mkdir -p "$WHEELS"
rm -f "$WHEELS"/hall_kiosk-*.whl
builder=$OUT/wheel-venv
[ -x "$builder/bin/pip" ] || $PY -m venv "$builder"
"$builder/bin/pip" wheel -q --no-cache-dir --use-pep517 --wheel-dir "$WHEELS" --find-links "$WHEELS" . \
  || { echo "!! step failed: building wheels" >&2; exit 1; }

echo ">> virtualenv at $PREFIX (staged in $ROOT)"
rm -rf "$STAGE"
mkdir -p "$ROOT$(dirname $PREFIX)"
$PY -m venv --without-pip "$ROOT$PREFIX"
"$builder/bin/pip" --python "$ROOT$PREFIX/bin/python" install -q --no-index --no-compile --find-links "$WHEELS" hall-kiosk \
  || { echo "!! step failed: installing the wheels into the package's virtualenv" >&2; exit 1; }
# pip and venv wrote the staging path into scripts and pyvenv.cfg; the package installs at PREFIX.
grep -rlI --null -F "$PWD/$ROOT$PREFIX" "$ROOT$PREFIX/bin" "$ROOT$PREFIX/pyvenv.cfg" | xargs -0 -r sed -i "s|$PWD/$ROOT$PREFIX|$PREFIX|g"
if grep -rqI -F "$PWD/$ROOT" "$ROOT$PREFIX"; then echo "!! staging path left in the virtualenv" >&2; exit 1; fi
# Bytecode is compiled by postinst and removed by prerm (Debian policy: no .pyc in the package).
find "$ROOT$PREFIX" -name __pycache__ -prune -exec rm -rf {} +
# Shared libraries are not executables (lintian: shared-library-is-executable).
find "$ROOT$PREFIX" -type f -name '*.so*' -exec chmod 0644 {} +
[ "$(readlink -f "$ROOT$PREFIX/bin/python")" = "$(readlink -f $PY)" ] || { echo "!! venv python is not $PY" >&2; exit 1; }

echo ">> files"
install -d "$ROOT/usr/bin" "$ROOT/etc/hall-kiosk" "$ROOT/lib/systemd/system" "$ROOT/lib/udev/rules.d" \
  "$ROOT/usr/share/hall-kiosk" "$ROOT/usr/share/doc/hall-kiosk" "$ROOT/usr/share/lintian/overrides" \
  "$ROOT/usr/share/X11/xorg.conf.d" "$ROOT/DEBIAN"
ln -s "$PREFIX/bin/kiosk" "$ROOT/usr/bin/kiosk"
install -m 0644 kiosk.example.toml "$ROOT/etc/hall-kiosk/kiosk.toml"
install -m 0644 packaging/systemd/*.service packaging/systemd/*.timer "$ROOT/lib/systemd/system/"
install -m 0644 packaging/udev/*.rules "$ROOT/lib/udev/rules.d/"
install -m 0755 packaging/session/hall-kiosk-session "$ROOT/usr/bin/hall-kiosk-session"
install -m 0644 packaging/session/*.conf "$ROOT/usr/share/X11/xorg.conf.d/"
install -m 0644 packaging/session/getty-autologin.conf "$ROOT/usr/share/hall-kiosk/"
install -m 0644 kiosk.example.toml "$ROOT/usr/share/hall-kiosk/kiosk.example.toml"
install -m 0644 packaging/debian/copyright "$ROOT/usr/share/doc/hall-kiosk/copyright"
gzip -9n -c packaging/debian/changelog >"$ROOT/usr/share/doc/hall-kiosk/changelog.gz"
chmod 0644 "$ROOT/usr/share/doc/hall-kiosk/changelog.gz"
install -m 0644 packaging/debian/lintian-overrides "$ROOT/usr/share/lintian/overrides/hall-kiosk"
install -m 0644 packaging/debian/conffiles "$ROOT/DEBIAN/conffiles"
install -m 0755 packaging/debian/postinst packaging/debian/prerm packaging/debian/postrm "$ROOT/DEBIAN/"

# The virtualenv runs on this python3 minor version only; the rest is the Makefile's APT_KIOSK, once each.
depends="python3 (>= $pyver), python3 (<< ${pyver%.*}.$(( ${pyver#*.} + 1 ))), adduser, \
$(echo "$DEB_DEPENDS" | tr ' ' '\n' | grep -vx -e python3 -e '' | awk '!seen[$0]++' | paste -sd, | sed 's/,/, /g')"
size=$(du -sk --exclude=DEBIAN "$ROOT" | cut -f1)
sed -e "s|@VERSION@|$version|" -e "s|@ARCH@|$arch|" -e "s|@DEPENDS@|$depends|" -e "s|@SIZE@|$size|" \
  packaging/debian/control >"$ROOT/DEBIAN/control"

deb=$OUT/hall-kiosk_${version}_${arch}.deb
echo ">> $deb"
dpkg-deb --root-owner-group -Zgzip -z6 --build "$ROOT" "$deb" >/dev/null
echo "$deb"
