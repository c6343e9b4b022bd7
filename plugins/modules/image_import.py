#!/usr/bin/python
# Copyright: cloudimages.transfer contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: image_import
short_description: Create an image from an object in the region's object store, or from another region's image
version_added: 0.1.0
description:
  - V(task) - the vendors' Images v2 tasks API import (C(import_from) C(<container>/<object>)).
  - V(upload) - a queued image is created and the object (a DLO reads as its concatenation) is
    streamed into C(PUT /v2/images/{id}/file).
  - V(web-download) - Glance fetches a Swift TempURL of the object (the account gets a TempURL key
    only when it has none; the target must admit the object store's address).
  - V(glance-download) - Glance copies O(source_image_id) from O(source_region) of the same
    Keystone, with no object store at all.
  - V(auto) - asks the target what it offers (C(/v2/info/import), the tasks API) and takes the
    cheapest. With O(object) given - V(task), else V(web-download), else V(upload); without it,
    V(glance-download) when a source image and region are given and the target offers it.
  - The new image is stamped with C(cloudimages_source_region), C(cloudimages_source_image),
    C(cloudimages_source_checksum) (from the options of those names) and O(properties). These are
    the idempotency key - a server-side filter on them finds what an earlier run made, so a rerun
    returns a finished image, waits on one still importing, or feeds one left queued; it never
    makes a second image.
  - Afterwards the size is checked against the source, and the checksum when O(source_checksum) is given.
    Asynchronous failures (C(os_glance_failed_import), a killed image) end the wait with their message.
author:
  - cloudimages.transfer maintainers (@cloudimages)
extends_documentation_fragment:
  - cloudimages.transfer._auth
  - cloudimages.transfer._waiting
  - cloudimages.transfer._attributes
attributes:
  check_mode:
    support: full
    details: Says which method would run and what it would create.
  diff_mode:
    support: full
  idempotent:
    support: full
    description: The stamped properties find an earlier import; a rerun makes no second image.
options:
  name:
    description: Name of the new image.
    type: str
    required: true
  container:
    description: Container of the source object (in this region's object store).
    type: str
  object:
    description: The source object, for example an export's C(<image_id>.vhd) manifest.
    type: str
  method:
    description: How to import.
    type: str
    choices: [auto, task, upload, web-download, glance-download]
    default: auto
  disk_format:
    description: Disk format of the new image (and the task's C(import_from_format)).
    type: str
    default: vhd
  container_format:
    description: Container format of the new image.
    type: str
    default: bare
  properties:
    description: Properties to stamp on the new image; part of the idempotency key.
    type: dict
    default: {}
  source_region:
    description: Region of the source image (stamped; needed by V(glance-download)).
    type: str
  source_image_id:
    description: Id of the source image (stamped; needed by V(glance-download)).
    type: str
  source_checksum:
    description: MD5 checksum of the source image (stamped; the new image's checksum must equal it).
    type: str
seealso:
  - module: cloudimages.transfer.image_export
"""

EXAMPLES = r"""
- name: Import an exported image through the vendor's tasks API
  cloudimages.transfer.image_import:
    cloud: mycloud
    region_name: IAD
    name: web01
    container: imports
    object: 4b2f0c2e-0000-4000-8000-000000000000.vhd
    source_region: DFW
    source_image_id: 4b2f0c2e-0000-4000-8000-000000000000
    source_checksum: 0cc175b9c0f1b6a831c399e269772661

- name: Same Keystone, two regions - let Glance copy it
  cloudimages.transfer.image_import:
    cloud: private
    region_name: RegionTwo
    name: web01
    method: glance-download
    source_region: RegionOne
    source_image_id: 4b2f0c2e-0000-4000-8000-000000000000
"""

RETURN = r"""
image_id:
  description: The imported image.
  returned: unless in check mode
  type: str
  sample: 1d944ab7-6748-4f3c-b7e2-3553bf006677
image:
  description: The image document after the import.
  returned: unless in check mode
  type: dict
  sample: {"id": "1d944ab7-6748-4f3c-b7e2-3553bf006677", "status": "active", "cloudimages_source_region": "DFW"}
method:
  description: The method used (V(none) when a finished import was found).
  returned: always
  type: str
  sample: upload
bytes:
  description: Size of the source.
  returned: when an import ran or would run
  type: int
  sample: 21474836480
verification:
  description: Size and checksum of the new image, and whether the checksum equals O(source_checksum).
  returned: unless in check mode
  type: dict
  sample: {"size": 21474836480, "checksum": "0cc175b9c0f1b6a831c399e269772661", "checksum_matches_source": true}
"""

from ansible.module_utils.basic import AnsibleModule
from ansible_collections.cloudimages.transfer.plugins.module_utils import _image_import
from ansible_collections.cloudimages.transfer.plugins.module_utils._auth import connection_argument_spec
from ansible_collections.cloudimages.transfer.plugins.module_utils._module import (
    connect,
    glance_for,
    run_module,
    waiting_argument_spec,
)


def main():
    argument_spec = connection_argument_spec()
    argument_spec.update(waiting_argument_spec())
    argument_spec.update(
        name=dict(type="str", required=True),
        container=dict(type="str"),
        object=dict(type="str"),
        method=dict(type="str", default="auto", choices=["auto", "task", "upload", "web-download", "glance-download"]),
        disk_format=dict(type="str", default="vhd"),
        container_format=dict(type="str", default="bare"),
        properties=dict(type="dict", default={}),
        source_region=dict(type="str"),
        source_image_id=dict(type="str"),
        source_checksum=dict(type="str"),
    )
    module = AnsibleModule(argument_spec=argument_spec, supports_check_mode=True,
                           required_together=[("container", "object")],
                           required_if=[("method", "glance-download", ["source_image_id", "source_region"]),
                                        ("method", "task", ["container"]), ("method", "upload", ["container"]),
                                        ("method", "web-download", ["container"])])

    def job():
        params = module.params
        glance, swift = connect(params, need_swift=bool(params["object"]))
        source = None
        if not params["object"] and params["source_image_id"]:
            source = glance_for({**params, "region_name": params["source_region"]})
        return _image_import.run(params, glance, swift, source, module.check_mode)

    run_module(module, job)


if __name__ == "__main__":
    main()
