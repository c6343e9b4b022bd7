"""The system suites use the shared local-cloud fixtures and the playbook runner."""
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from systemtest import *  # noqa: E402,F401,F403  (fixtures and helpers)
from cloudtest import *  # noqa: E402,F401,F403


def pytest_configure(config):
    config.addinivalue_line(
        "markers", "serial: touches what every test shares (the vendor emulator's fault file, the producer "
        "account's TempURL metadata, every copy process on the machine) or measures time closely; make test "
        "runs these alone, after the others ran in parallel")
