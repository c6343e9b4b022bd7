# Copyright: cloudimages.transfer contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations


class ModuleDocFragment:
    # Options of the modules that wait on asynchronous work (plugins/module_utils/_tasks.py).
    DOCUMENTATION = r"""
options:
  poll_interval:
    description:
      - Seconds between polls of a task or an importing image. The vendors ask for 30 s on their
        tasks API; a private cloud may allow less, down to 1 s. A little jitter is added.
    type: float
    default: 30
  wait_timeout:
    description: Overall deadline, in seconds, for the asynchronous work to finish.
    type: int
    default: 21600
  task_retries:
    description:
      - How many times a task that failed for a reason that may pass is created again. A task
        that failed because its input is wrong (not found, not valid, ...) is not retried.
    type: int
    default: 2
  max_size:
    description: Refuse, before any byte moves, a source larger than this many bytes (for targets with import limits).
    type: int
"""
