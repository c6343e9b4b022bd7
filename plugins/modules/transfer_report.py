#!/usr/bin/python
# Copyright: cloudimages.transfer contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: transfer_report
short_description: Write a transfer report as JSON on the controller
version_added: 0.2.0
description:
  - Writes O(report) as indented JSON (keys sorted) to O(path) on the controller - the machine,
    or AWX execution environment, that runs C(ansible-playbook) - whatever host the task is for.
  - The file is written under a temporary name in the same folder and renamed into place, so a
    reader never sees half a report; a file that already holds exactly this report is left alone.
  - The C(cloudimages.transfer.transfer_image) playbook writes its report with it. An action
    plugin - no module runs on any host, so writing the report adds no module start-up to a run.
options:
  path:
    description: The file to write, on the controller (relative to the directory C(ansible-playbook) runs in).
    type: path
    required: true
  report:
    description: The report.
    type: dict
    required: true
  mode:
    description: The file's permissions, in octal.
    type: raw
    default: "0644"
attributes:
  check_mode:
    support: full
    description: In check mode nothing is written (the playbook's task sets C(check_mode=false) to write the report of a check-mode run).
  diff_mode:
    support: none
    description: No diff is shown.
  platform:
    support: full
    platforms: posix
    description: Writes on the controller.
  action:
    support: full
    description: An action plugin; it runs on the controller.
  async:
    support: none
    description: It cannot run asynchronously.
author:
  - cloudimages.transfer maintainers (@cloudimages)
seealso:
  - module: ansible.builtin.copy
"""

EXAMPLES = r"""
- name: The report as JSON, beside the playbook run
  cloudimages.transfer.transfer_report:
    path: "{{ playbook_dir }}/transfer-report.json"
    report:
      source_region: DFW
      target_region: IAD
      images: "{{ rows }}"
"""

RETURN = r"""
path:
  description: The file written.
  returned: always
  type: str
  sample: /home/ops/transfer-report-20261201T170000Z.json
"""
