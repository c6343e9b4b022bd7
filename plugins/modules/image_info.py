#!/usr/bin/python
# Copyright: cloudimages.transfer contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: image_info
short_description: Find images in an Images v2 region, filtered on the server
version_added: 0.1.0
description:
  - Returns the image documents as the Images API gives them, found by id, by name, by any
    property filter, by tags, status, visibility, member status or owner.
  - Filters go to the server as C(?key=value) and every C(next) page is followed; the module
    never lists all images to filter them itself.
author:
  - cloudimages.transfer maintainers (@cloudimages)
extends_documentation_fragment:
  - cloudimages.transfer._auth
  - cloudimages.transfer._attributes
  - cloudimages.transfer._attributes.info_module
options:
  image:
    description: An image id, or a name (then combined with the other filters).
    type: str
  filters:
    description:
      - Server-side filters, any image attribute or custom property as key (for example
        C(com.mycompany.image-of)) with the value it must have.
    type: dict
    default: {}
  tags:
    description: Only images that carry every one of these tags.
    type: list
    elements: str
  status:
    description: Only images in this status (for example V(active), V(queued), V(importing)).
    type: str
  visibility:
    description: Only images with this visibility.
    type: str
    choices: [public, private, shared, community, all]
  member_status:
    description: For images shared with the caller, only those with this membership status.
    type: str
    choices: [pending, accepted, rejected, all]
  owner:
    description: Only images owned by this project id.
    type: str
  capabilities:
    description:
      - Also read what the region's Images endpoint can import (RV(capabilities)). With no
        O(image), filter or tag given, no images are listed then.
    type: bool
    default: false
seealso:
  - module: cloudimages.transfer.image_metadata
"""

EXAMPLES = r"""
- name: The image a transfer stamped with coordinating metadata
  cloudimages.transfer.image_info:
    cloud: mycloud
    region_name: IAD
    filters:
      com.mycompany.image-of: 4b2f0c2e-0000-4000-8000-000000000000
    status: active
  register: found

- name: Images shared with this project and still waiting for an answer
  cloudimages.transfer.image_info:
    cloud: consumer
    member_status: pending
    visibility: shared
"""

RETURN = r"""
images:
  description: The matching images, each the Images API's document (custom properties are top-level keys).
  returned: always
  type: list
  elements: dict
  sample: [{"id": "4b2f0c2e-0000-4000-8000-000000000000", "name": "web01", "status": "active",
            "checksum": "0cc175b9c0f1b6a831c399e269772661", "size": 21474836480, "visibility": "private",
            "com.mycompany.image-of": "web01"}]
capabilities:
  description:
    - What the endpoint can import; with O(capabilities) only.
    - C(import_methods) from C(/v2/info/import) (empty where the endpoint has none),
      C(disk_formats) from the image schema's C(disk_format) list, C(tasks_api) whether these
      credentials may use the Images v2 tasks API (the vendors' import and export tasks),
      C(stores) the store ids of a Glance with several (C(/v2/info/stores), the default first;
      empty where it has one). An image's own C(stores) is in its document.
  returned: when O(capabilities=true)
  type: dict
  sample: {"import_methods": ["glance-direct", "web-download"], "disk_formats": ["raw", "qcow2", "vhd"],
           "tasks_api": false, "stores": ["local", "extra"]}
region:
  description: The region searched.
  returned: always
  type: str
  sample: RegionOne
"""

from ansible.module_utils.basic import AnsibleModule
from ansible_collections.cloudimages.transfer.plugins.module_utils import _image_info
from ansible_collections.cloudimages.transfer.plugins.module_utils._auth import connection_argument_spec
from ansible_collections.cloudimages.transfer.plugins.module_utils._module import glance_for, run_module


def main():
    argument_spec = connection_argument_spec()
    argument_spec.update(
        image=dict(type="str"),
        filters=dict(type="dict", default={}),
        tags=dict(type="list", elements="str"),
        status=dict(type="str"),
        visibility=dict(type="str", choices=["public", "private", "shared", "community", "all"]),
        member_status=dict(type="str", choices=["pending", "accepted", "rejected", "all"]),
        owner=dict(type="str"),
        capabilities=dict(type="bool", default=False),
    )
    module = AnsibleModule(argument_spec=argument_spec, supports_check_mode=True)

    def job():
        return _image_info.run(_image_info.Options.from_params(module.params), glance_for(module.params))

    run_module(module, job)


if __name__ == "__main__":
    main()
