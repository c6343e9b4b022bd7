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
timings=()
passed=0
failed=0
SYSTEM_TEST_WORKERS=${SYSTEM_TEST_WORKERS:-3}
record() {  # record NAME EXIT_CODE SECONDS
  if [ "$2" = 0 ]; then passed=$((passed + 1)); echo "PASS: $1" >&2
  else failed=$((failed + 1)); failures+=("$1"); echo "FAIL: $1 (exit $2)" >&2; fi
  timings+=("$(printf '%5ss  %s  %s' "$3" "$([ "$2" = 0 ] && echo pass || echo FAIL)" "$1")")
}
run() {  # run NAME COMMAND...: a check that may fail without stopping the others
  local name=$1 rc=0 started=$SECONDS; shift
  say "$name"
  "$@" || rc=$?
  record "$name" "$rc" "$((SECONDS - started))"
}

dev_env

# ---------------------------------------------------------------- the collection tree
sync_tree
offline_get_pip "$DEV/bin/python"
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
# the rest of the range meta/runtime.yml claims (make test-matrix prints the same table)
if [ "${SKIP_SANITY:-0}" != 1 ]; then
  run "ansible-test sanity and units on ansible-core 2.16 to 2.20" bash hacking/matrix.sh 2.16 2.17 2.18 2.19 2.20
  # the modules run on the host that runs them with Python 3.9 and later (tests/config.yml)
  PY39=$( { ls "$HOME"/.pyenv/versions/3.9.*/bin/python3.9 2>/dev/null; command -v python3.9; } | head -1 || true)
  if [ -n "$PY39" ] && PY39=$("$PY39" -c 'import sys; print(sys.executable)' 2>/dev/null); then
    # the real interpreter first on PATH (a pyenv shim would not run it)
    run "ansible-test sanity compile and import of the modules on Python 3.9" \
      bash -c "cd '$TREE' && env -u PYENV_VERSION PATH='$(dirname "$PY39")':\"\$PATH\" ansible-test sanity --test compile --test import --venv --python 3.9 --color no"
  else
    echo "no Python 3.9 here: the modules' floor is not sanity-tested on this machine" >&2
  fi
fi
# the oldest release of the range also runs the integration targets and the role's system test
OLDEST=$(pinned_venv core-2.16 "$PY" "$REPO/hacking/matrix/ansible-core-2.16.txt")
offline_get_pip "$OLDEST/bin/python"
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
  for lib in requests keystoneauth1 openstacksdk python-swiftclient oslo.utils; do
    grep -q "$lib" <<<"$wanted" || { echo "ansible-builder introspect does not list $lib" >&2; return 1; }
  done
  echo "built $(basename "$tarball"): $(tar tzf "$tarball" | wc -l) entries, $(du -k "$tarball" | cut -f1) KiB" >&2
  # the execution environment definition: its build context holds the collection, its Python
  # requirements and qemu-img
  mkdir -p "$out/ee/meta"
  cp execution-environment.yml execution-environment-requirements.yml "$tarball" "$out/ee/"
  cp meta/ee-requirements.txt meta/ee-bindep.txt "$out/ee/meta/"
  (cd "$out/ee" && ansible-builder create -f execution-environment.yml -c context >&2)
  for lib in requests keystoneauth1 openstacksdk python-swiftclient oslo.utils; do
    grep -q "^$lib" "$out/ee/context/_build/requirements.txt" ||
      { echo "the EE build context does not list $lib" >&2; return 1; }
  done
  grep -q '^qemu-img \[platform:rpm\]' "$out/ee/context/_build/bindep.txt" &&
    [ -f "$out/ee/context/_build/collections/$(basename "$tarball")" ] &&
    grep -q 'quay.io/centos/centos:stream9' "$out/ee/context/"*file ||
    { echo "the EE build context lacks qemu-img, the collection or the base image" >&2; return 1; }
  rm -rf "$out"
}
run "ansible-galaxy collection build + install + ansible-builder introspect + EE build context" build_and_install

summary() {
  say "summary"
  echo "each suite's time:"
  printf '  %s\n' "${timings[@]}"
  echo "make test took $((SECONDS - T0)) s"
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
# Most system tests wait on servers: they run side by side, test by test (those that use a cloud
# of their own on one worker, so that it starts once: tests/system/conftest.py), each with images,
# containers and files of its own; the few that touch what every test shares (marked serial) run
# alone afterwards.
run "system tests in parallel (pytest -n $SYSTEM_TEST_WORKERS: module interop, corruption, secrets, formats; the role)" \
  pytest -p no:cacheprovider -q --durations=15 -n "$SYSTEM_TEST_WORKERS" --dist loadgroup -m "not serial" tests/system
run "system tests alone (pytest -m serial: kill and resume, cancellation, TempURL keys, vendor faults)" \
  pytest -p no:cacheprovider -q --durations=10 -m serial tests/system
# the targets read the cloud's URLs and clouds.yaml path from ansible-test's integration config
python3 -c 'import json, sys; print(json.dumps({"localcloud": json.load(open(sys.argv[1]))}))' \
  "$REPO/.localcloud/cloud.json" > "$TREE/tests/integration/integration_config.yml"
run "ansible-test integration" at integration
run "ansible-test integration on ansible-core 2.16 (the oldest of the range)" \
  bash -c "cd '$TREE' && env -u PYENV_VERSION PATH='$OLDEST/bin':\"\$PATH\" ansible-test integration --venv --python '$PYVER' --color no"
run "the role on ansible-core 2.16: transfer, rerun, check mode (pytest)" \
  "$OLDEST/bin/python" -m pytest -p no:cacheprovider -q tests/system/test_region_transfer.py \
  -k "transfer_then_rerun_changes_nothing or check_mode_changes_nothing"
summary
