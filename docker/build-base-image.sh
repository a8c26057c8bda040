#!/usr/bin/env bash
# Prepare an image build that needs no container registry (the project's own machines have none):
#
#   1. a base image equivalent to python:3.11-slim-bookworm, built from Debian packages:
#      debootstrap of Debian bookworm (minbase + python3 + python3-venv + fonts-dejavu-core) from the Debian mirror
#      apt is configured with, then `docker import` as segur-sandbox-base:bookworm;
#   2. a wheelhouse docker/.build/wheels (the project's dependencies, its cda extra, setuptools/wheel),
#      built on the host from PyPI, which docker/Dockerfile installs from with no index; it is
#      checked to resolve every requirement alone, and the host pip's CA bundle is copied beside
#      it (docker/.build/pip-ca.crt) for an image build that must reach an index.
#
# Then:  docker compose build --build-arg ... (or just `docker compose build` with the
# SEGUR_BASE_IMAGE variable this script prints). Idempotent: what exists is kept, so a
# second run takes about a second. FORCE=1 rebuilds both.
#
# Usage: docker/build-base-image.sh            (needs root, or sudo, for debootstrap)
# Env:   SEGUR_BASE_IMAGE  tag of the image to build (default segur-sandbox-base:bookworm)
#        DEBIAN_MIRROR     mirror to debootstrap from (default: read from /etc/apt/sources.list*)
#        PYTHON            host python 3.11 that builds the wheels (default python3)
set -euo pipefail
cd "$(dirname "$0")/.."

tag=${SEGUR_BASE_IMAGE:-segur-sandbox-base:bookworm}
suite=bookworm
build=docker/.build
wheels=$build/wheels
python=${PYTHON:-python3}
force=${FORCE:-0}

rootfs=""
# the debootstrapped tree is root-owned: remove it as root however the script ends
cleanup() { if [ -n "$rootfs" ]; then as_root rm -rf "$rootfs"; fi; }
trap cleanup EXIT

say() { printf '[build-base-image] %s\n' "$*" >&2; }
as_root() { if [ "$(id -u)" = 0 ]; then "$@"; else sudo "$@"; fi; }

# The first Debian (not -security) mirror apt uses: deb822 "URIs:" or one-line "deb URL suite".
debian_mirror() {
  local files=(/etc/apt/sources.list /etc/apt/sources.list.d/*.list /etc/apt/sources.list.d/*.sources)
  local url
  url=$(cat "${files[@]}" 2>/dev/null |
    awk '/^[[:space:]]*#/ {next}
         $1 == "URIs:" {for (i = 2; i <= NF; i++) print $i}
         $1 == "deb" {for (i = 2; i <= NF; i++) if ($i ~ /^[a-z]+:\/\//) {print $i; break}}' |
    grep -E '/debian/?$' | grep -v -- '-security' | head -n 1 || true)
  echo "${url:-http://deb.debian.org/debian}"
}

build_base_image() {
  if [ "$force" != 1 ] && docker image inspect "$tag" >/dev/null 2>&1; then
    say "base image $tag present"
    return
  fi
  local started=$SECONDS
  if ! command -v debootstrap >/dev/null 2>&1; then
    say "installing debootstrap"
    as_root apt-get update -qq
    as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq debootstrap >/dev/null
  fi
  local mirror
  mirror=${DEBIAN_MIRROR:-$(debian_mirror)}
  rootfs=$(mktemp -d "${TMPDIR:-/tmp}/segur-rootfs.XXXXXX")
  say "debootstrap $suite (minbase + python3) from $mirror"
  # minbase: dpkg, apt and the Essential set only. python3-venv brings ensurepip (pip, setuptools
  # wheels); ca-certificates so that pip in the image can reach an index when one is allowed;
  # fonts-dejavu-core for the PDF/A-1 letters the DMP's seeded documents embed (mocks/cda/letter).
  as_root debootstrap --variant=minbase --include=python3,python3-venv,ca-certificates,fonts-dejavu-core \
    "$suite" "$rootfs" "$mirror" >"$build/debootstrap.log" 2>&1 || {
    tail -n 30 "$build/debootstrap.log" >&2
    exit 1
  }
  # what a container never needs: package lists, caches, docs, man pages, locales but C
  as_root rm -rf "$rootfs"/var/lib/apt/lists/* "$rootfs"/var/cache/apt/* "$rootfs"/var/log/*.log \
    "$rootfs"/usr/share/doc/* "$rootfs"/usr/share/man/* "$rootfs"/usr/share/info/* \
    "$rootfs"/usr/share/locale/* "$rootfs"/tmp/*
  # same resolver and sources as a normal debian image (apt-get update works inside if allowed)
  printf 'deb %s %s main\n' "$mirror" "$suite" | as_root tee "$rootfs/etc/apt/sources.list" >/dev/null
  say "docker import $tag"
  as_root tar -C "$rootfs" -c . | docker import \
    -c 'ENV LANG=C.UTF-8' \
    -c 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
    -c 'CMD ["python3"]' \
    -m "Debian $suite minbase + python3, from $mirror (segur-sandbox docker/build-base-image.sh)" \
    - "$tag" >/dev/null
  say "base image $tag built in $((SECONDS - started)) s ($(docker image inspect -f '{{.Size}}' "$tag" | awk '{printf "%.0f MB", $1/1e6}'))"
}

# The image's requirements (dependencies + the cda extra, as docker/Dockerfile reads them) resolve
# from the wheelhouse alone: a stamp without its wheels (an interrupted or emptied folder) would
# send the image build to PyPI, which an offline or TLS-inspected network refuses.
wheelhouse_complete() {
  ls "$wheels"/*.whl >/dev/null 2>&1 || return 1
  "$python" -c "import tomllib; p = tomllib.load(open('pyproject.toml', 'rb'))['project']; print('\n'.join(p['dependencies'] + p['optional-dependencies']['cda']))" >"$build/requirements.txt"
  PIP_FIND_LINKS="" "$python" -m pip install --dry-run --quiet --disable-pip-version-check --ignore-installed \
    --no-index --find-links "$wheels" -r "$build/requirements.txt" >/dev/null 2>&1
}

# The CA bundle the host's pip trusts (PIP_CERT, pip's `global.cert`, SSL_CERT_FILE), for the
# image build's pip when it has to reach an index (no wheelhouse, or PIP_ARGS): behind a
# TLS-inspecting proxy, the image's own CA list does not know the proxy's CA. Build stage only.
copy_pip_ca() {
  local ca=${PIP_CERT:-}
  [ -n "$ca" ] || ca=$("$python" -m pip config get global.cert 2>/dev/null || true)
  [ -n "$ca" ] || ca=${SSL_CERT_FILE:-}
  if [ -n "$ca" ] && [ -f "$ca" ]; then
    cp "$ca" "$build/pip-ca.crt"
  else
    rm -f "$build/pip-ca.crt"
  fi
}

build_wheelhouse() {
  # the wheelhouse is valid for one pyproject.toml: rebuild when it changes
  local stamp_file=$wheels/.pyproject.sha256 want
  want=$(sha256sum pyproject.toml | cut -d' ' -f1)
  if [ "$force" != 1 ] && [ -f "$stamp_file" ] && [ "$(cat "$stamp_file")" = "$want" ] && wheelhouse_complete; then
    say "wheelhouse $wheels up to date"
    return
  fi
  local started=$SECONDS
  "$python" - <<'EOF' || { say "the wheelhouse needs CPython 3.11 on the host (set PYTHON)"; exit 1; }
import sys
raise SystemExit(sys.version_info[:2] != (3, 11))
EOF
  rm -rf "$wheels"
  mkdir -p "$wheels"
  say "building wheels for python 3.11 into $wheels"
  # The image installs the dependencies and the `cda` extra (docker/Dockerfile); setuptools and
  # wheel are what it builds the project's own wheel with. The project's wheel is built here too
  # (harmless) and dropped. Host and image are both glibc 2.36 / cp311.
  "$python" -m pip wheel --quiet --disable-pip-version-check -w "$wheels" ".[cda]" "setuptools>=68" wheel
  rm -f "$wheels"/segur_sandbox-*.whl  # the image builds the project from its source tree
  wheelhouse_complete || { say "the wheelhouse $wheels cannot install the image's requirements"; exit 1; }
  echo "$want" >"$stamp_file"
  say "wheelhouse built in $((SECONDS - started)) s ($(find "$wheels" -name '*.whl' | wc -l) wheels)"
}

mkdir -p "$build"
build_base_image
build_wheelhouse
copy_pip_ca
echo "SEGUR_BASE_IMAGE=$tag"
