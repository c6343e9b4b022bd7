# shellcheck shell=bash
# Shared by hacking/test.sh and hacking/demo.sh: find interpreters, build pinned venvs,
# install the few Debian packages the scripts need. Sourced, not run.

REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
CACHE=${LOCALCLOUD_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/cloudimages-transfer}
T0=$SECONDS

say() { printf '\n=== [%4ss] %s\n' "$((SECONDS - T0))" "$*" >&2; }
die() { printf 'ERROR: %s\n' "$*" >&2; exit 1; }

# The controller: the newest ansible-core the machine's Python can run, each pinned by its own
# lock file: Python 3.12 or 3.13 -> ansible-core 2.21 (requirements-dev.lock); Python 3.11, as
# Debian 12 ships it -> ansible-core 2.19, the newest release for 3.11 (requirements-dev-2.19.lock).
# PATH first, then pyenv's versions folder; the real interpreter, not a pyenv shim (shims
# confuse ansible-test).
find_controller_python() {
  local candidate minor
  for minor in 12 11; do
    for candidate in python3.12 python3.13 python3.11 python3 \
        "$HOME"/.pyenv/versions/3.12*/bin/python3 "$HOME"/.pyenv/versions/3.13*/bin/python3 \
        "$HOME"/.pyenv/versions/3.11*/bin/python3; do
      if command -v "$candidate" >/dev/null 2>&1 &&
         "$candidate" -c "import sys, venv, ensurepip; sys.exit(not (3, $minor) <= sys.version_info[:2] < (3, 14))" \
           2>/dev/null; then
        "$candidate" -c 'import sys; print(sys.executable)'; return 0
      fi
    done
  done
  die "no Python 3.11, 3.12 or 3.13 with venv found (PATH or ~/.pyenv/versions): install python3 and python3-venv (Debian 12, Ubuntu 24.04) or python3.12"
}

# controller_lock PYTHON -> the lock file of the newest ansible-core that Python runs
controller_lock() {
  if "$1" -c 'import sys; sys.exit(sys.version_info < (3, 12))'; then
    echo "$REPO/hacking/requirements-dev.lock"
  else
    echo "$REPO/hacking/requirements-dev-2.19.lock"
  fi
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
# large-object peer the tests and the benchmark read and write with), PostgreSQL (the local
# cloud's database server).
ensure_debian_packages() {
  local missing=()
  command -v qemu-img >/dev/null || missing+=(qemu-utils)
  command -v rclone >/dev/null || missing+=(rclone)
  command -v curl >/dev/null || missing+=(curl)
  [ -x /usr/sbin/sshd ] || missing+=(openssh-server)  # worker hosts over SSH on loopback (tests/system/test_workers.py)
  compgen -G '/usr/lib/postgresql/*/bin/postgres' >/dev/null || missing+=(postgresql)  # the local cloud's database server
  # Debian's python3 comes without venv and ensurepip unless python3-venv is installed
  python3 -c 'import venv, ensurepip' 2>/dev/null || missing+=(python3-venv)
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
  DEV=$(pinned_venv dev "$PY" "$(controller_lock "$PY")")
  export PATH=$DEV/bin:$PATH
  say "controller: Python $("$PY" -c 'import platform; print(platform.python_version())') ($PY)," \
      "ansible-core $("$DEV/bin/python" -c 'import ansible; print(ansible.__version__)')" \
      "(hacking/$(basename "$(controller_lock "$PY")"))"
}

# sync_tree: the collection as ansible-test needs it, .../ansible_collections/cloudimages/transfer
# (a real folder, not a link), in TREE. The local cloud, the scripts and the benchmarks are
# tooling around the collection, not collection content, and stay out. tests/output is kept
# between runs (ansible-test's venvs).
sync_tree() {
  TREE=$CACHE/ansible-test/ansible_collections/cloudimages/transfer
  mkdir -p "$TREE"
  find "$TREE" -mindepth 1 -maxdepth 1 ! -name tests -exec rm -rf {} +
  find "$TREE/tests" -mindepth 1 -maxdepth 1 ! -name output -exec rm -rf {} + 2>/dev/null || true
  (cd "$REPO" && git ls-files -z --cached --others --exclude-standard |
    grep -zv -e '^tests/localcloud/' -e '^tests/system/' -e '^hacking/' -e '^benchmarks/' -e '^\.ci/' -e '^Makefile$' |
    tar --null -T - -cf - | tar -xf - -C "$TREE")
}

# offline_get_pip PYTHON: ansible-test (of the ansible-core in PYTHON's venv) fetches a pip
# bootstrap script from a host this machine cannot reach; give it a stand-in that bootstraps
# pip from the interpreter's own ensurepip, then installs.
offline_get_pip() {
  local pin get internal
  internal="$("$1" -c 'import ansible_test, os; print(os.path.dirname(ansible_test.__file__))')/_internal"
  for pin in $(grep -rhoP "\bpip='\K[0-9.]+" "$internal" | sort -u); do  # older releases pin one per Python range
    get=$HOME/.ansible/test/cache/get_pip_${pin//./_}.py
    if [ ! -f "$get" ]; then
      mkdir -p "$(dirname "$get")"
      cp "$REPO/hacking/get_pip_offline.py" "$get"
    fi
  done
}
