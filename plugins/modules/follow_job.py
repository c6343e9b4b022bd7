#!/usr/bin/python
# Copyright: cloudimages.transfer contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: follow_job
short_description: Wait for a module running in the background, printing its progress
version_added: 0.2.0
description:
  - Waits for a job that a task started with C(async) and C(poll=0), and returns that job's
    result as if the module had run in the foreground (so it can be registered under the same
    name, and the task fails when the job failed). Given the result of a task that ran in the
    foreground (C(async=0), as in check mode, where C(async) cannot be used) or was skipped,
    returns that result as it is.
  - Every O(interval) seconds, prints one progress line for the job to the playbook output (and
    so to AWX's job output) - the percent, bytes, rate and ETA while data moves, or what the job
    waits for, its state as the cloud reports it, how long it has waited and how often it polls.
    The line is made from the job's O(progress_file) (the collection's modules write one, see
    their C(progress_file) option), from the time alone when there is none yet.
  - Touches O(heartbeat_file) at every poll; a module given the same C(heartbeat_file) stops by
    itself when the playbook stops following it (killed, or cancelled in AWX).
  - One loop in one task, however long the job takes; the job's status file is removed once the
    result is read.
  - The first polls come fast (after a quarter second, then twice as long each time) so that a
    short job does not keep the playbook waiting for a whole O(interval); from then on, one poll
    per O(interval).
  - An action plugin. Each poll is one plain shell command on the host the job runs on (which
    may be a worker host reached over SSH) - touch the heartbeat, read the progress file and the
    job's status file - and C(async_status) reads the result once that file no longer says the
    job runs.
options:
  job:
    description: The registered result of the task that started the job (its C(ansible_job_id)).
    type: dict
    required: true
  label:
    description: What the progress lines call the job (C(export), C(copy), C(import)).
    type: str
    default: job
  progress_file:
    description: The progress file the job writes, on the host it runs on.
    type: path
  heartbeat_file:
    description: A file to touch at every poll, on the host the job runs on.
    type: path
  interval:
    description: Seconds between progress lines, and between polls once the first fast ones are done.
    type: float
    default: 10
attributes:
  check_mode:
    support: full
    description: In check mode the starting task ran in the foreground; its result is returned as it is.
  diff_mode:
    support: none
    description: It changes nothing itself; the followed job's diff, if any, is returned with its result.
  platform:
    support: full
    platforms: posix
    description: Polls with C(async_status) and a POSIX shell on the host that runs the job.
  action:
    support: full
    description: An action plugin; it runs on the controller and polls the job's host.
  async:
    support: none
    description: It waits for a job that runs asynchronously; it cannot itself run asynchronously.
author:
  - cloudimages.transfer maintainers (@cloudimages)
seealso:
  - module: ansible.builtin.async_status
  - module: cloudimages.transfer.swift_dlo_copy
"""

EXAMPLES = r"""
- name: Start the copy in the background
  cloudimages.transfer.swift_dlo_copy:
    region_name: DFW
    container: exports
    object: web01.vhd
    progress_file: /var/tmp/web01.progress.json
    heartbeat_file: /var/tmp/web01.heartbeat
    target:
      region_name: IAD
      container: imports
  async: "{{ 0 if ansible_check_mode else 21600 }}"
  poll: 0
  register: copied

- name: Follow it (the copy's result is then registered as copied)
  cloudimages.transfer.follow_job:
    job: "{{ copied }}"
    label: copy
    progress_file: /var/tmp/web01.progress.json
    heartbeat_file: /var/tmp/web01.heartbeat
    interval: 30
  register: copied
"""

RETURN = r"""
follow:
  description: How long the job was followed, and how many polls it took.
  returned: always
  type: dict
  sample: {"seconds": 412.3, "polls": 14}
msg:
  description: The job's own message; every other value the job's module returns is returned too.
  returned: when the job returned one
  type: str
"""
