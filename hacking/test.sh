#!/usr/bin/env bash
# The test command (README, CI): builds its pinned tools, starts the local cloud, and runs
# every check. Exits non-zero when any check fails; prints each suite's summary line.
#
#   bash hacking/test.sh            # everything
#   SKIP_SANITY=1 bash hacking/test.sh   # (development) leave out ansible-test sanity
#   SKIP_CLOUD=1 bash hacking/test.sh    # (development) only the checks that need no cloud
set -euo pipefail
# shellcheck source=hacking/lib.sh
source "$(dirname "$0")/lib.sh"
cd "$REPO"

failures=()
passed=0
failed=0
record() {  # record NAME EXIT_CODE
  if [ "$2" = 0 ]; then passed=$((passed + 1)); echo "PASS: $1" >&2
  else failed=$((failed + 1)); failures+=("$1"); echo "FAIL: $1 (exit $2)" >&2; fi
}
run() {  # run NAME COMMAND...: a check that may fail without stopping the others
  local name=$1 rc=0; shift
  say "$name"
  "$@" || rc=$?
  record "$name" "$rc"
}

ensure_debian_packages
PY=$(find_controller_python)
DEV=$(pinned_venv dev "$PY" "$REPO/hacking/requirements-dev.lock")
export PATH=$DEV/bin:$PATH

# ---------------------------------------------------------------- the collection tree
# ansible-test needs .../ansible_collections/cloudimages/transfer (a real folder, not a link).
# The local cloud, the scripts and the benchmarks are tooling around the collection, not
# collection content, and stay out. tests/output is kept between runs (ansible-test's venvs).
TREE=$CACHE/ansible-test/ansible_collections/cloudimages/transfer
mkdir -p "$TREE"
find "$TREE" -mindepth 1 -maxdepth 1 ! -name tests -exec rm -rf {} +
find "$TREE/tests" -mindepth 1 -maxdepth 1 ! -name output -exec rm -rf {} + 2>/dev/null || true
git ls-files -z --cached --others --exclude-standard |
  grep -zv -e '^tests/localcloud/' -e '^tests/system/' -e '^hacking/' -e '^benchmarks/' -e '^\.ci/' -e '^Makefile$' |
  tar --null -T - -cf - | tar -xf - -C "$TREE"

# ansible-test fetches a pip bootstrap script from a host this machine cannot reach: give it
# a stand-in that bootstraps pip from the interpreter's own ensurepip, then installs.
PIP_PIN=$(grep -oP "pip='\K[0-9.]+" "$("$DEV/bin/python" -c 'import ansible_test, os; print(os.path.dirname(ansible_test.__file__))')/_internal/python_requirements.py")
GET_PIP=$HOME/.ansible/test/cache/get_pip_${PIP_PIN//./_}.py
if [ ! -f "$GET_PIP" ]; then
  mkdir -p "$(dirname "$GET_PIP")"
  cp "$REPO/hacking/get_pip_offline.py" "$GET_PIP"
fi
PYVER=$("$PY" -c 'import sys; print("%d.%d" % sys.version_info[:2])')
# ansible-test runs with the venv's python; pyenv shims on PATH would confuse it
at() { (cd "$TREE" && env -u PYENV_VERSION ansible-test "$@" --venv --python "$PYVER" --color no); }

# ---------------------------------------------------------------- checks without a cloud
if [ "${SKIP_SANITY:-0}" != 1 ]; then
  run "ansible-test sanity" at sanity
fi
if [ -n "$(find tests/unit -name 'test_*.py' 2>/dev/null)" ]; then
  run "ansible-test units" at units
fi
# in the collection tree, so that the collection's own modules and role resolve by FQCN
run "ansible-lint (production profile)" \
  bash -c "cd '$TREE' && ANSIBLE_COLLECTIONS_PATH='$CACHE/ansible-test' ansible-lint --profile production --offline"
run "antsibull-docs lint-collection-docs" \
  bash -c "cd '$TREE' && ANSIBLE_COLLECTIONS_PATH='$CACHE/ansible-test' antsibull-docs lint-collection-docs --plugin-docs ."
run "antsibull-changelog lint" antsibull-changelog lint

build_and_install() {
  local out; out=$(mktemp -d)
  ansible-galaxy collection build --force --output-path "$out" . >&2
  local tarball; tarball=$(ls "$out"/cloudimages-transfer-*.tar.gz)
  local bad
  bad=$(tar tzf "$tarball" | grep -E '(^|/)(\.localcloud|\.venv[^/]*|tests/output|tests/localcloud|hacking|\.git|__pycache__)(/|$)' || true)
  [ -z "$bad" ] || { echo "the tarball holds what is not collection content:" >&2; echo "$bad" >&2; return 1; }
  ansible-galaxy collection install "$tarball" -p "$out/install" >&2
  [ -f "$out/install/ansible_collections/cloudimages/transfer/MANIFEST.json" ]
  # what an execution environment built with this collection would install
  local wanted; wanted=$(ansible-builder introspect --sanitize "$out/install")
  echo "$wanted" >&2
  for lib in requests keystoneauth1 openstacksdk python-swiftclient; do
    grep -q "$lib" <<<"$wanted" || { echo "ansible-builder introspect does not list $lib" >&2; return 1; }
  done
  echo "built $(basename "$tarball"): $(tar tzf "$tarball" | wc -l) entries, $(du -k "$tarball" | cut -f1) KiB" >&2
  rm -rf "$out"
}
run "ansible-galaxy collection build + install + ansible-builder introspect" build_and_install

summary() {
  say "summary"
  echo "$passed passed, $failed failed"
  if [ "$failed" != 0 ]; then
    printf 'failed: %s\n' "${failures[@]}" >&2
    exit 1
  fi
}
[ "${SKIP_CLOUD:-0}" = 1 ] && { summary; exit 0; }

# ---------------------------------------------------------------- checks on the local cloud
say "starting the local cloud"
trap 'localcloud stop >/dev/null 2>&1 || true' EXIT
localcloud start
# shellcheck disable=SC1091
source "$REPO/.localcloud/env.sh"
run "local cloud contract tests (pytest)" \
  pytest -p no:cacheprovider -q -o junit_family=xunit2 tests/localcloud/tests
run "system tests (pytest: module interop, kill and resume, corruption, secrets; the role)" \
  pytest -p no:cacheprovider -q --durations=15 tests/system
# the targets read the cloud's URLs and clouds.yaml path from ansible-test's integration config
python3 -c 'import json, sys; print(json.dumps({"localcloud": json.load(open(sys.argv[1]))}))' \
  "$REPO/.localcloud/cloud.json" > "$TREE/tests/integration/integration_config.yml"
run "ansible-test integration" at integration
summary
