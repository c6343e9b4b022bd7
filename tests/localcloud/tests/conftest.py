"""The contract suite uses the shared local-cloud fixtures."""
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from cloudtest import *  # noqa: E402,F401,F403  (fixtures and helpers)
