# shellcheck shell=bash
# Shared by hacking/test.sh and hacking/demo.sh: find interpreters, build pinned venvs,
# install the few Debian packages the scripts need. Sourced, not run.

REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
CACHE=${LOCALCLOUD_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/cloudimages-transfer}
T0=$SECONDS

say() { printf '\n=== [%4ss] %s\n' "$((SECONDS - T0))" "$*" >&2; }
die() { printf 'ERROR: %s\n' "$*" >&2; exit 1; }

# ansible-core 2.21 needs Python >= 3.12: PATH first, then pyenv's versions folder.
find_controller_python() {
  local candidate
  for candidate in python3.12 python3.13 \
      "$HOME"/.pyenv/versions/3.12*/bin/python3 "$HOME"/.pyenv/versions/3.13*/bin/python3; do
    if command -v "$candidate" >/dev/null 2>&1 &&
       "$candidate" -c 'import sys, venv, ensurepip; sys.exit(sys.version_info < (3, 12))' 2>/dev/null; then
      # the real interpreter, not a pyenv shim (shims confuse ansible-test)
      "$candidate" -c 'import sys; print(sys.executable)'; return 0
    fi
  done
  die "no Python >= 3.12 with venv found (PATH or ~/.pyenv/versions); install python3.12 (and python3.12-venv)"
}

# pinned_venv NAME PYTHON LOCKFILE -> prints the venv path; built once per lock file and Python.
pinned_venv() {
  local name=$1 python=$2 lock=$3 version key path
  version=$("$python" -c 'import sys; print("%d.%d" % sys.version_info[:2])')
  key=$( (cat "$lock"; echo "$version") | sha256sum | cut -c1-12)
  path=$CACHE/venvs/$name-py$version-$key
  if [ ! -f "$path/.complete" ]; then
    say "building the $name venv from $(basename "$lock") (first run only)"
    rm -rf "$path"
    mkdir -p "$(dirname "$path")"
    "$python" -m venv "$path" >&2
    "$path/bin/pip" install -q --disable-pip-version-check -r "$lock" >&2 || die "installing $lock failed"
    touch "$path/.complete"
  fi
  echo "$path"
}

# Debian packages the scripts use: qemu-img (making and checking disk images), rclone (a
# large-object peer the tests and the benchmark read and write with).
ensure_debian_packages() {
  local missing=()
  command -v qemu-img >/dev/null || missing+=(qemu-utils)
  command -v rclone >/dev/null || missing+=(rclone)
  command -v curl >/dev/null || missing+=(curl)
  [ ${#missing[@]} = 0 ] && return 0
  local sudo=
  [ "$(id -u)" = 0 ] || sudo=sudo
  say "installing Debian packages: ${missing[*]}"
  $sudo apt-get install -y -qq "${missing[@]}" >/dev/null 2>&1 ||
    { $sudo apt-get update -qq >/dev/null && $sudo apt-get install -y -qq "${missing[@]}" >/dev/null; } ||
    die "could not install ${missing[*]} with apt-get"
}

# The local cloud launcher (stdlib only) and its servers run on the system python3 (>= 3.11),
# resolved now, before any venv lands on PATH.
SYSTEM_PYTHON=$(command -v python3)
export LOCALCLOUD_PYTHON=${LOCALCLOUD_PYTHON:-$SYSTEM_PYTHON}  # tests that start a cloud of their own use it too
localcloud() { "$SYSTEM_PYTHON" "$REPO/tests/localcloud/localcloud.py" "$@"; }

# dev_env: the Debian packages, the controller Python and the pinned dev venv, put first on PATH
# (sets PY and DEV).
dev_env() {
  ensure_debian_packages
  PY=$(find_controller_python)
  DEV=$(pinned_venv dev "$PY" "$REPO/hacking/requirements-dev.lock")
  export PATH=$DEV/bin:$PATH
}
