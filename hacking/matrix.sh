#!/usr/bin/env bash
# make test-matrix: ansible-test sanity and units on each ansible-core release of the range
# meta/runtime.yml claims, each with a Python it supports as a controller, where this machine
# has one (PATH or ~/.pyenv/versions). The newest release (the dev venv's) is what make test
# runs; the others are pinned in hacking/matrix/ansible-core-<release>.txt. Prints one line per
# release; exits non-zero when any ran and failed.
#
#   bash hacking/matrix.sh                 # every release of the range
#   bash hacking/matrix.sh 2.19 2.21       # some of them
set -euo pipefail
# shellcheck source=hacking/lib.sh
source "$(dirname "$0")/lib.sh"
cd "$REPO"
dev_env
sync_tree

# release -> the controller Pythons it supports (ansible-core's support matrix), preferred first
declare -A PYTHONS=([2.16]="3.12 3.11" [2.17]="3.12 3.11" [2.18]="3.12 3.11 3.13" [2.19]="3.11 3.12 3.13"
                    [2.20]="3.12 3.13" [2.21]="3.12 3.13")
releases=("$@")
[ ${#releases[@]} -gt 0 ] || releases=(2.16 2.17 2.18 2.19 2.20 2.21)

python_for() {  # python_for X.Y -> a real interpreter of that version, or nothing
  local candidate
  for candidate in "python$1" "$HOME"/.pyenv/versions/"$1".*/bin/python3; do
    if command -v "$candidate" >/dev/null 2>&1 && "$candidate" -c 'import venv, ensurepip' 2>/dev/null; then
      "$candidate" -c 'import sys; print(sys.executable)'; return 0
    fi
  done
  return 1
}

lines=()
bad=0
for release in "${releases[@]}"; do
  python= pyver=
  for pyver in ${PYTHONS[$release]}; do
    python=$(python_for "$pyver") && break
  done
  if [ -z "$python" ]; then
    lines+=("ansible-core $release: not run (no Python among ${PYTHONS[$release]})"); continue
  fi
  if [ "$release" = 2.21 ]; then
    venv=$(pinned_venv dev "$PY" "$(controller_lock "$PY")")
    pyver=$("$PY" -c 'import sys; print("%d.%d" % sys.version_info[:2])')
  else
    venv=$(pinned_venv "core-$release" "$python" "$REPO/hacking/matrix/ansible-core-$release.txt")
  fi
  offline_get_pip "$venv/bin/python"
  version=$("$venv/bin/python" -c 'import ansible; print(ansible.__version__)')
  started=$SECONDS
  results=""
  for what in sanity units; do
    say "ansible-core $version, Python $pyver: ansible-test $what"
    if (cd "$TREE" && env -u PYENV_VERSION PATH="$venv/bin:$PATH" ansible-test "$what" --venv --python "$pyver" \
          --color no); then
      results+=" $what passed"
    else
      results+=" $what FAILED"; bad=1
    fi
  done
  lines+=("ansible-core $version on Python $pyver:$results ($((SECONDS - started)) s)")
done
say "matrix"
printf '%s\n' "${lines[@]}"
exit $bad
