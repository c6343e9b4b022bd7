#!/usr/bin/python
# Copyright: cloudimages.transfer contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: image_export
short_description: Export an image into its region's object store as a Dynamic Large Object
version_added: 0.1.0
description:
  - V(task) uses the Images v2 tasks API export of the vendors' clouds - C(POST /v2/tasks) of type
    C(export), polled until it ends; the result is C(<container>/<image_id>.vhd) with segments
    C(<image_id>.vhd-00001), ... A task for the same image and container that is still running
    is waited on instead of starting another.
  - V(stream) serves clouds without an export task (upstream Glance) - C(GET /v2/images/{id}/file)
    is read once and cut into segments; each stored segment's ETag is compared with the MD5
    computed on the way, and the whole with the image's C(checksum) and C(os_hash_value), before
    the manifest is written.
  - V(auto) uses V(task) where the cloud offers the tasks API to these credentials, else V(stream).
  - The export is checked (a consistent DLO of the image's size) and its manifest stamped with
    the image's id and checksum. A rerun that finds a stamped, consistent export changes nothing.
  - The image must be active; the container name is checked and the container created when missing.
author:
  - cloudimages.transfer maintainers (@cloudimages)
extends_documentation_fragment:
  - cloudimages.transfer._large_object.max_rate
  - cloudimages.transfer._large_object.public_container
  - cloudimages.transfer._background
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
    description: A verified export at the expected location is left as it is.
options:
  image:
    description: The image's id, or its name.
    type: str
  filters:
    description: Server-side filters that, with O(image) when it is a name, must match exactly one image.
    type: dict
    default: {}
  container:
    description: The container of the same region's object store to export into.
    type: str
    required: true
  object:
    description: Name of the manifest. V(task) always writes C(<image_id>.vhd), the default.
    type: str
  method:
    description: How to export.
    type: str
    choices: [auto, task, stream]
    default: auto
  segment_size:
    description:
      - Segment size of V(stream) exports, in bytes or with a binary unit.
      - When not set (or V(auto)), chosen from the cluster's C(/info) as
        M(cloudimages.transfer.swift_dlo_upload) chooses it.
    type: str
  expire_after:
    description:
      - Seconds after which Swift deletes the segments and manifest of a V(stream) export, by itself (C(X-Delete-After) on
        each), so that an intermediate copy that an abandoned transfer leaves
        behind then disappears. Unset, nothing expires.
      - The expiry counts from when each object was written; segments kept from an earlier run
        keep theirs. Swift's object expirer removes expired objects; until it runs they are
        no longer served.
    type: int
  lease_holder:
    description:
      - Hold a lease on the export for this reader (1 to 24 lower-case letters and digits, unique per run),
        in the container's metadata, taken before the export is written and whenever a finished one is
        found. A cleanup by M(cloudimages.transfer.swift_dlo_upload) with another O(lease_holder) then leaves
        the export while this lease lives (two runs of one image share one export). Taking it is
        bookkeeping, not a change.
    type: str
  lease_seconds:
    description: How long the lease lives unless let go (the run's longest possible life; a killed run's lease expires then).
    type: int
    default: 22500
  create_container:
    description: Create the container when missing.
    type: bool
    default: true
seealso:
  - module: cloudimages.transfer.image_import
  - module: cloudimages.transfer.swift_dlo_copy
"""

EXAMPLES = r"""
- name: Export through the vendor's tasks API (polled every 30 s)
  cloudimages.transfer.image_export:
    cloud: mycloud
    region_name: DFW
    image: 4b2f0c2e-0000-4000-8000-000000000000
    container: exports
  register: exported

- name: Export from an upstream Glance by streaming
  cloudimages.transfer.image_export:
    cloud: private
    image: web01
    container: exports
    method: stream
    segment_size: 512MiB
"""

RETURN = r"""
lease:
  description: The lease held on the export for O(lease_holder), and when it expires (Unix time).
  returned: with O(lease_holder), when not in check mode
  type: dict
  sample: {"holder": "a1b2c3d4e5f6", "expires": 1796380000}
image_id:
  description: The exported image.
  returned: always
  type: str
  sample: 4b2f0c2e-0000-4000-8000-000000000000
export_location:
  description: The manifest, C(<container>/<object>).
  returned: always
  type: str
  sample: exports/4b2f0c2e-0000-4000-8000-000000000000.vhd
method:
  description: The method used (V(none) when a finished export was found).
  returned: always
  type: str
  sample: task
task:
  description: The task document, when V(task) ran.
  returned: when a task ran
  type: dict
  sample: {"id": "7bdc8ede-9098-4d79-9477-697f586cb333", "type": "export", "status": "success",
           "result": {"export_location": "exports/4b2f0c2e-0000-4000-8000-000000000000.vhd"}}
bytes:
  description: Size of the export (a vendor task's interchange VHD differs in size from the image).
  returned: unless in check mode
  type: int
  sample: 21474836480
bytes_identical:
  description:
    - Whether the export holds exactly the image's bytes (a V(stream) export, verified by the image's
      checksum). A vendor export task writes a newly made VHD, so its MD5 is not the image's.
  returned: unless in check mode
  type: bool
  sample: false
verification:
  description: What was checked - segment count, size, ETag-of-ETags, consistency, the source checksum stamped.
  returned: unless in check mode
  type: dict
  sample: {"segments": 20, "size": 21474836480, "etag": "5d41402abc4b2a76b9719d911017c592", "consistent": true,
           "source_checksum": "0cc175b9c0f1b6a831c399e269772661"}
"""

from ansible.module_utils.basic import AnsibleModule
from ansible_collections.cloudimages.transfer.plugins.module_utils import _image_export
from ansible_collections.cloudimages.transfer.plugins.module_utils._auth import connection_argument_spec
from ansible_collections.cloudimages.transfer.plugins.module_utils._module import (
    connect,
    max_rate_argument_spec,
    public_container_argument_spec,
    run_module,
    waiting_argument_spec,
)


def main():
    argument_spec = connection_argument_spec()
    argument_spec.update(waiting_argument_spec())
    argument_spec.update(max_rate_argument_spec())
    argument_spec.update(public_container_argument_spec())
    argument_spec.update(
        image=dict(type="str"),
        filters=dict(type="dict", default={}),
        container=dict(type="str", required=True),
        object=dict(type="str"),
        method=dict(type="str", default="auto", choices=["auto", "task", "stream"]),
        segment_size=dict(type="str"),
        create_container=dict(type="bool", default=True),
        lease_holder=dict(type="str"),
        lease_seconds=dict(type="int", default=22500),
        expire_after=dict(type="int"),
    )
    module = AnsibleModule(argument_spec=argument_spec, supports_check_mode=True,
                           required_one_of=[("image", "filters")])

    def job():
        glance, swift = connect(module.params)
        return _image_export.run(_image_export.Options.from_params(module.params), glance, swift, module.check_mode)

    run_module(module, job)


if __name__ == "__main__":
    main()
