#!/usr/bin/env bash
# The long hardening trials that make test runs fewer of: ten seeded SIGTERM and ten seeded
# SIGKILL kills of the role during its copy (tests/system/test_cancellation.py; make test: one
# each), each followed by 30 s of watching and an unaided rerun, and ten SIGKILLs at seeded
# moments of any phase, then a rerun (tests/system/test_crash_rerun.py; make test: two). About
# 25 minutes; prints one JSON line per cancellation trial. The local cloud is started (and
# stopped) by the tests unless one is running.
set -euo pipefail
# shellcheck source=hacking/lib.sh
source "$(dirname "$0")/lib.sh"
cd "$REPO"
dev_env
report=$(mktemp)
trap 'rm -f "$report"' EXIT
rc=0
CANCEL_TRIALS=${CANCEL_TRIALS:-10} CRASH_TRIALS=${CRASH_TRIALS:-10} CANCEL_REPORT=$report \
  pytest -p no:cacheprovider -q tests/system/test_cancellation.py tests/system/test_crash_rerun.py \
  -k "killed_playbook or killed_at_a_random_moment" || rc=$?
cat "$report"
exit $rc
