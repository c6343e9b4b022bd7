# Copyright: cloudimages.transfer contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
name: launch_dir
version_added: 0.2.0
short_description: The directory ansible-playbook was started in
description:
  - Returns the current working directory of the controller process - where the user ran
    C(ansible-playbook) (in AWX, the job's project directory). Relative paths in tasks resolve
    against the playbook's directory instead, which for a playbook of an installed collection is
    inside the collection; the C(cloudimages.transfer.transfer_image) playbook writes its report
    here by default.
  - The C(PWD) environment variable is not used - a program that starts C(ansible-playbook) in
    another directory passes its own.
options: {}
"""

EXAMPLES = r"""
- name: Write the report where the playbook was started
  ansible.builtin.copy:
    content: "{{ report | to_nice_json }}"
    dest: "{{ lookup('cloudimages.transfer.launch_dir') }}/report.json"
    mode: "0644"
"""

RETURN = r"""
_raw:
  description: The directory, as one absolute path.
  type: list
  elements: path
"""

import os

from ansible.plugins.lookup import LookupBase


class LookupModule(LookupBase):
    def run(self, terms, variables=None, **kwargs):
        self.set_options(var_options=variables, direct=kwargs)
        return [os.getcwd()]
