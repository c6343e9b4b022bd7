"""The system suites use the shared local-cloud fixtures and the playbook runner."""
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from systemtest import *  # noqa: E402,F401,F403  (fixtures and helpers)
from cloudtest import *  # noqa: E402,F401,F403
