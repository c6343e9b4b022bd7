#!/usr/bin/python
# Copyright: cloudimages.transfer contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: image_member
short_description: Share an image with projects, or accept or reject a share
version_added: 0.1.0
description:
  - Producer side (the image's owner) - O(members) are made members of the image
    (O(state=present)) or stop being members (O(state=absent)); with O(exclusive=true) every
    other member is removed. New members start as C(pending). The image must have visibility
    C(shared).
  - Consumer side - O(status) sets the membership of O(member) (by default the caller's own
    project) to V(accepted), V(rejected) or V(pending). Only the member project itself may do
    this - run the task with the consumer's credentials; the owner gets a 403, which the
    module explains.
  - Returns the members and their statuses.
author:
  - cloudimages.transfer maintainers (@cloudimages)
extends_documentation_fragment:
  - cloudimages.transfer._auth
  - cloudimages.transfer._attributes
attributes:
  check_mode:
    support: full
  diff_mode:
    support: full
  idempotent:
    support: full
    description: A second run finds the members (or the status) as wanted and changes nothing.
options:
  image:
    description: The image's id, or its name.
    type: str
  filters:
    description: Server-side filters that, with O(image) when it is a name, must match exactly one image.
    type: dict
    default: {}
  members:
    description: Project ids to share the image with (or to unshare, with O(state=absent)).
    type: list
    elements: str
  state:
    description: Whether O(members) must be members of the image.
    type: str
    choices: [present, absent]
    default: present
  exclusive:
    description: With O(state=present), remove every member not in O(members).
    type: bool
    default: false
  status:
    description:
      - Consumer side - the membership status to set for O(member). Needs the member project's
        own credentials.
    type: str
    choices: [accepted, rejected, pending]
  member:
    description: The member whose status O(status) sets; defaults to the project of the credentials.
    type: str
seealso:
  - module: cloudimages.transfer.image_metadata
"""

EXAMPLES = r"""
- name: Share an image with a consumer project (as the owner)
  cloudimages.transfer.image_member:
    cloud: producer
    image: 4b2f0c2e-0000-4000-8000-000000000000
    members: [c0ffee00c0ffee00c0ffee00c0ffee00]

- name: Accept it (as the consumer)
  cloudimages.transfer.image_member:
    cloud: consumer
    image: 4b2f0c2e-0000-4000-8000-000000000000
    status: accepted
"""

RETURN = r"""
image_id:
  description: The image's id.
  returned: always
  type: str
  sample: 4b2f0c2e-0000-4000-8000-000000000000
members:
  description: The members and their statuses after the task (owner side).
  returned: when O(status) is not set
  type: list
  elements: dict
  sample: [{"member_id": "c0ffee00c0ffee00c0ffee00c0ffee00", "status": "pending"}]
added:
  description: Members added (or that would be).
  returned: when O(status) is not set
  type: list
  elements: str
  sample: ["c0ffee00c0ffee00c0ffee00c0ffee00"]
removed:
  description: Members removed (or that would be).
  returned: when O(status) is not set
  type: list
  elements: str
  sample: []
member:
  description: The member whose status was set.
  returned: when O(status) is set
  type: str
  sample: c0ffee00c0ffee00c0ffee00c0ffee00
status:
  description: The membership status after the task.
  returned: when O(status) is set
  type: str
  sample: accepted
"""

from ansible.module_utils.basic import AnsibleModule
from ansible_collections.cloudimages.transfer.plugins.module_utils import _image_member
from ansible_collections.cloudimages.transfer.plugins.module_utils._auth import connection_argument_spec
from ansible_collections.cloudimages.transfer.plugins.module_utils._module import glance_for, run_module


def main():
    argument_spec = connection_argument_spec()
    argument_spec.update(
        image=dict(type="str"),
        filters=dict(type="dict", default={}),
        members=dict(type="list", elements="str"),
        state=dict(type="str", default="present", choices=["present", "absent"]),
        exclusive=dict(type="bool", default=False),
        status=dict(type="str", choices=["accepted", "rejected", "pending"]),
        member=dict(type="str"),
    )
    module = AnsibleModule(argument_spec=argument_spec, supports_check_mode=True,
                           required_one_of=[("image", "filters")],
                           mutually_exclusive=[("status", "members")])

    def job():
        return _image_member.run(_image_member.Options.from_params(module.params), glance_for(module.params),
                                 module.check_mode)

    run_module(module, job)


if __name__ == "__main__":
    main()
