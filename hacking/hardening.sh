#!/usr/bin/env bash
# The long hardening trials that make test runs once: ten seeded SIGTERM and ten seeded SIGKILL
# kills of the role during its copy (tests/system/test_cancellation.py), each followed by 30 s
# of watching and an unaided rerun. About 25 minutes; prints one JSON line per trial. The
# local cloud is started (and stopped) by the tests unless one is running.
set -euo pipefail
# shellcheck source=hacking/lib.sh
source "$(dirname "$0")/lib.sh"
cd "$REPO"
dev_env
report=$(mktemp)
trap 'rm -f "$report"' EXIT
CANCEL_TRIALS=${CANCEL_TRIALS:-10} CANCEL_REPORT=$report \
  pytest -p no:cacheprovider -q tests/system/test_cancellation.py -k killed_playbook
cat "$report"
