# Copyright: cloudimages.transfer contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations


class ModuleDocFragment:
    # Options of the modules that can run for long, in the background (plugins/module_utils/_cancel.py,
    # _transfer.Progress, _tasks.Poller); cloudimages.transfer.follow_job reads them.
    DOCUMENTATION = r"""
options:
  progress_file:
    description:
      - A path where a JSON progress document is kept up to date while the module works, replaced
        in one rename so that a reader never sees half of one. While data moves - C(operation),
        C(state), C(bytes_done), C(bytes_total), C(percent), C(rate_bytes_per_second),
        C(eta_seconds), each segment's state. While the module waits on the cloud (a task, an
        importing image) - C(operation) (what is awaited), C(detail) (its state as the cloud
        reports it), C(elapsed_seconds), C(poll_interval), C(polls).
      - M(cloudimages.transfer.follow_job) prints it as a progress line.
    type: path
  heartbeat_file:
    description:
      - For a module run in the background (C(async) with C(poll=0)), which outlives a playbook
        that is killed - a file the playbook touches while it waits
        (M(cloudimages.transfer.follow_job) does it at every poll). When its modification time is
        older than O(heartbeat_timeout), the module stops as if cancelled - no new segment, the
        requests in flight abandoned, no manifest written, no wait continued; a rerun resumes.
      - SIGTERM and SIGINT stop any module of the collection the same way, and so does the end of
        the process that started it.
    type: path
  heartbeat_timeout:
    description: Seconds without a touch of O(heartbeat_file) after which the module stops.
    type: int
    default: 60
"""
