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


# fixtures that start a cloud of their own: the tests that use one run on one worker, so that it
# starts once (make test distributes the others test by test: --dist loadgroup)
OWN_CLOUDS = ("converting_cloud", "short_token_cloud")


def pytest_collection_modifyitems(config, items):
    for item in items:
        for name in OWN_CLOUDS:
            if name in getattr(item, "fixturenames", ()):
                item.add_marker(pytest.mark.xdist_group(name))
