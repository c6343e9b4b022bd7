"""The system suites use the shared local-cloud fixtures and the playbook runner."""
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))

from systemtest import *  # noqa: E402,F401,F403  (fixtures and helpers)
from cloudtest import *  # noqa: E402,F401,F403


def pytest_configure(config):
    config.addinivalue_line(
        "markers", "serial: touches what every test shares (the vendor emulator's fault file, the producer "
        "account's TempURL metadata, every copy process on the machine) or measures time closely; make test "
        "runs these alone, after the others ran in parallel")


# fixtures whose tests run on one worker, one after the other (make test distributes the others
# test by test: --dist loadgroup): those that start a cloud of their own, so that it starts once,
# and the worker hosts' (four sshd and their transfers side by side stalled an export for two
# minutes on two cores; each kills only its own processes, by a marker unique to the test)
GROUPED = ("converting_cloud", "short_token_cloud", "workers")


# tryfirst: xdist's worker reads the xdist_group marks in its own hook of this name, which pluggy
# calls before a conftest's (it registers later); without it the marks came too late and every
# test was distributed alone: a clean-clone run saw one worker test kill another's jobs
@pytest.hookimpl(tryfirst=True)
def pytest_collection_modifyitems(config, items):
    for item in items:
        for name in GROUPED:
            if name in getattr(item, "fixturenames", ()):
                item.add_marker(pytest.mark.xdist_group(name))
