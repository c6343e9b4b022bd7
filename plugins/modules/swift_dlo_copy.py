#!/usr/bin/python
# Copyright: cloudimages.transfer contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: swift_dlo_copy
short_description: Copy a Swift Dynamic or Static Large Object to another region or cloud, segment by segment
version_added: 0.1.0
description:
  - Copies a DLO from one object store to another with no local disk. Each segment streams from
    a GET into a PUT whose C(ETag) is the source listing's MD5, so the target refuses damaged
    bytes. Segments move in parallel and keep their sizes and order; the target's are named
    C(<target prefix>00001), C(-00002), ... whatever the source's names. The target manifest
    is written only after every segment is verified, then read back and checked.
  - The source is what Swift serves for its manifest, every object under its (percent-decoded)
    prefix, across every listing page, whatever the segment sizes. See O(layout) for what is
    refused or only reported.
  - Resumable and idempotent. Target segments whose size and MD5 match are kept, so an
    interrupted copy moves only what is missing and a complete one moves nothing.
  - The connection options describe the source. O(target) describes the target; its
    connection settings default to the source's, so a copy between regions of one cloud needs
    only O(target.region_name).
author:
  - cloudimages.transfer maintainers (@cloudimages)
extends_documentation_fragment:
  - cloudimages.transfer._large_object.max_rate
  - cloudimages.transfer._large_object.public_container
  - cloudimages.transfer._background
  - cloudimages.transfer._auth
  - cloudimages.transfer._attributes
  - cloudimages.transfer._large_object.layout
  - cloudimages.transfer._large_object.expire_after
attributes:
  check_mode:
    support: full
    details: Returns the plan (segments to copy or keep, stale target segments, manifest).
  diff_mode:
    support: full
  idempotent:
    support: full
    description: A rerun after success copies no segment bytes and reports C(changed=false).
options:
  container:
    description: Container of the source manifest.
    type: str
    required: true
  object:
    description: Name of the source manifest.
    type: str
    required: true
    aliases: [name]
  target:
    description:
      - Where to copy to. Connection keys left out are taken from the source's options, except where the target
        names its own O(target.cloud), where neither the credentials nor the TLS settings (O(ca_cert), O(validate_certs))
        of the source are lent to it.
    type: dict
    required: true
    suboptions:
      cloud:
        description: Cloud of the target (see the module's O(cloud)).
        type: str
      auth:
        description: Credentials of the target (see the module's O(auth)).
        type: dict
      auth_type:
        description: Auth type of the target.
        type: str
      region_name:
        description: Region of the target.
        type: str
      interface:
        description: Endpoint interface for the target.
        type: str
        choices: [public, internal, admin]
        aliases: [endpoint_type]
      ca_cert:
        description: CA bundle for the target.
        type: path
        aliases: [cacert]
      validate_certs:
        description: Verify the target's TLS certificates.
        type: bool
        aliases: [verify]
      timeout:
        description: Per-request timeout for the target, in seconds.
        type: int
      retries:
        description: Retries for the target's requests.
        type: int
      container:
        description: Container of the target manifest. Defaults to the source's O(container).
        type: str
      object:
        description: Name of the target manifest. Defaults to the source's O(object).
        type: str
      segment_container:
        description: Container for the target segments. Defaults to O(target.container).
        type: str
      segment_prefix:
        description: Name prefix of the target segments. Defaults to C(<target object>-).
        type: str
  manifest:
    description:
      - The kind of large object written at the target. V(keep) writes the source's kind; V(dlo)
        or V(slo) convert (see M(cloudimages.transfer.swift_dlo_upload) for the trade-offs).
      - An SLO source may hold nested SLOs, byte ranges of segments and inline data; each becomes
        one target segment.
    type: str
    choices: [keep, dlo, slo]
    default: keep
  concurrency:
    description: How many segments are copied at once.
    type: int
    default: 4
  create_container:
    description: Create the target container(s) when missing.
    type: bool
    default: true
  stale_segments:
    description:
      - What to do with target objects under the segment prefix that the source has no
        counterpart for. V(delete) removes them before the manifest is written; V(fail) stops.
    type: str
    choices: [delete, fail]
    default: delete
seealso:
  - module: cloudimages.transfer.swift_dlo_upload
  - module: cloudimages.transfer.swift_dlo_download
"""

EXAMPLES = r"""
- name: Copy an exported image from DFW to IAD in the same cloud
  cloudimages.transfer.swift_dlo_copy:
    cloud: mycloud
    region_name: DFW
    container: exports
    object: 4b2f0c2e-0000-4000-8000-000000000000.vhd
    target:
      region_name: IAD
      container: imports
    concurrency: 8
    progress_file: /var/tmp/copy.progress.json

- name: Copy between two accounts
  cloudimages.transfer.swift_dlo_copy:
    cloud: producer
    container: exports
    object: web01.vhd
    target:
      cloud: consumer
      region_name: RegionTwo
"""

RETURN = r"""
source:
  description: The source manifest, as C(<container>/<object>).
  returned: always
  type: str
  sample: exports/web01.vhd
source_region:
  description: The source region.
  returned: always
  type: str
  sample: RegionOne
object:
  description: The target manifest, as C(<container>/<object>).
  returned: always
  type: str
  sample: imports/web01.vhd
region:
  description: The target region.
  returned: always
  type: str
  sample: RegionTwo
manifest:
  description: The target's C(X-Object-Manifest) value.
  returned: always
  type: str
  sample: imports/web01.vhd-
size:
  description: Size of the object in bytes.
  returned: always
  type: int
  sample: 21474836480
etag:
  description: The ETag-of-ETags, the same for source and target.
  returned: always
  type: str
  sample: 5d41402abc4b2a76b9719d911017c592
bytes_copied:
  description: Segment bytes copied by this run.
  returned: always
  type: int
  sample: 1073741824
plan:
  description: Counts of segments to copy and to keep, stale segments, containers to create, manifest action.
  returned: always
  type: dict
  sample: {"segments": 20, "to_transfer": 1, "to_keep": 19, "bytes_to_transfer": 1073741824,
           "stale_to_delete": [], "containers_to_create": [], "manifest": "keep"}
segments:
  description: Every target segment with its number, name, size, offset, MD5, action and reason.
  returned: always
  type: list
  elements: dict
  sample: [{"number": 1, "name": "web01.vhd-00001", "size": 1073741824, "offset": 0,
            "md5": "0cc175b9c0f1b6a831c399e269772661", "action": "keep", "reason": "same size and MD5"}]
"""

from ansible.module_utils.basic import AnsibleModule
from ansible_collections.cloudimages.transfer.plugins.module_utils import _dlo_copy
from ansible_collections.cloudimages.transfer.plugins.module_utils._auth import connection_argument_spec
from ansible_collections.cloudimages.transfer.plugins.module_utils._module import (
    background_argument_spec,
    max_rate_argument_spec,
    public_container_argument_spec,
    inherited_connection,
    run_module,
    swift_for,
    target_argument_spec,
)


def main():
    argument_spec = connection_argument_spec()
    argument_spec.update(
        container=dict(type="str", required=True),
        object=dict(type="str", required=True, aliases=["name"]),
        target=dict(type="dict", required=True, options=target_argument_spec(dict(
            container=dict(type="str"),
            object=dict(type="str"),
            segment_container=dict(type="str"),
            segment_prefix=dict(type="str"),
        ))),
        manifest=dict(type="str", default="keep", choices=["keep", "dlo", "slo"]),
        layout=dict(type="str", default="any", choices=["any", "strict"]),
        concurrency=dict(type="int", default=4),
        create_container=dict(type="bool", default=True),
        stale_segments=dict(type="str", default="delete", choices=["delete", "fail"]),
        **background_argument_spec(),
        **max_rate_argument_spec(),
        **public_container_argument_spec(),
        expire_after=dict(type="int"),
    )
    module = AnsibleModule(argument_spec=argument_spec, supports_check_mode=True)

    def job():
        params = module.params
        target = swift_for(params["target"], inherited_connection(params, params["target"]))
        return _dlo_copy.run(_dlo_copy.Options.from_params(params), swift_for(params), target, module.check_mode)

    run_module(module, job)


if __name__ == "__main__":
    main()
