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
# and the worker hosts' (test_workers.py kills a worker's processes by the marker
# CLOUDIMAGES_TEST_WORKER=worker2 in their environment, which the worker2 of another test side by
# side carries too: a clean-clone run saw one test kill the other's export that way)
GROUPED = ("converting_cloud", "short_token_cloud", "workers")


def pytest_collection_modifyitems(config, items):
    for item in items:
        for name in GROUPED:
            if name in getattr(item, "fixturenames", ()):
                item.add_marker(pytest.mark.xdist_group(name))
