#!/usr/bin/python
# Copyright: cloudimages.transfer contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: image_metadata
short_description: Set an image's custom properties, name, tags and attributes with one JSON patch
version_added: 0.1.0
description:
  - Makes an image's custom properties (and optionally its name, tags, min_disk, min_ram,
    visibility and protected flag) what the task says, with one JSON patch of media type
    C(application/openstack-images-v2.1-json-patch) - C(add) for new keys, C(replace) for
    changed ones, C(remove) for keys in O(absent_properties) or, with O(purge), for every
    custom property not wanted.
  - The image is found by id, or by name and/or filters that must match exactly one image.
  - O(copy_from) takes custom properties from another image, possibly in another region or
    cloud, selected by key prefixes. Read-only and reserved keys are never written, copied or
    not (C(os_glance_*), C(os_hash_*), C(checksum), C(size), C(virtual_size), C(status),
    C(owner), C(id), C(created_at), C(updated_at), C(file), C(schema), C(self), C(locations),
    C(direct_url), C(stores)); asking for one explicitly is an error.
  - The patch is the plan. Check mode returns it without sending it; C(changed) is whether it
    has any operation; diff shows the properties before and after.
author:
  - cloudimages.transfer maintainers (@cloudimages)
extends_documentation_fragment:
  - cloudimages.transfer._auth
  - cloudimages.transfer._attributes
attributes:
  check_mode:
    support: full
    details: Returns the patch it would send.
  diff_mode:
    support: full
  idempotent:
    support: full
    description: A second run finds an empty patch and sends nothing.
options:
  image:
    description: The image's id, or its name.
    type: str
  filters:
    description: Server-side filters that, with O(image) when it is a name, must match exactly one image.
    type: dict
    default: {}
  properties:
    description:
      - Custom properties the image must have. Values are sent as strings.
      - Keys such as C(com.mycompany.image-of) or C(org.openstack__1__os_version) are fine.
    type: dict
    default: {}
  absent_properties:
    description: Custom properties the image must not have.
    type: list
    elements: str
    default: []
  purge:
    description: Remove every custom property that is not in O(properties) (or copied by O(copy_from)).
    type: bool
    default: false
  name:
    description: The image's name.
    type: str
  tags:
    description: Tags the image must carry.
    type: list
    elements: str
  purge_tags:
    description: Remove tags not listed in O(tags).
    type: bool
    default: false
  min_disk:
    description: Minimum disk in GB.
    type: int
  min_ram:
    description: Minimum RAM in MB.
    type: int
  visibility:
    description: The image's visibility. V(shared) is needed before members can be added.
    type: str
    choices: [public, private, shared, community]
  protected:
    description: Whether the image is protected from deletion.
    type: bool
  copy_from:
    description:
      - Copy custom properties from another image. O(properties) win over copied values.
      - Never copied - this collection's own stamps (C(cloudimages_*)), which name the other image's
        source, C(kernel_id) and C(ramdisk_id), which name images of the other image's region (set
        them to the target's copies with O(properties); a warning says they were left), and read-only
        or reserved keys. Signatures (C(img_signature*)) only with O(copy_from.signatures). Not copied unless O(copy_from.include) names them
        exactly - Nova's snapshot bookkeeping (C(instance_uuid), C(base_image_ref), C(image_location),
        C(image_state), C(image_type), C(owner_id), C(user_id), C(boot_roles), C(owner_project_name),
        C(owner_user_name), C(instance_type_*), C(bdm_v2), C(block_device_mapping), C(root_device_name),
        C(clean_attempts)), true only of the instance and project the snapshot came from.
      - Connection keys left out are taken from this module's options (not the credentials nor the TLS
        settings when O(copy_from.cloud) is given).
      - A copied property the target cloud refuses (403, Glance's property protections) is skipped
        with a warning naming it, and the rest are copied; a key given in O(properties) still fails.
    type: dict
    suboptions:
      image:
        description: The source image's id or name.
        type: str
      filters:
        description: Server-side filters that must match exactly one source image.
        type: dict
      include:
        description: Copy only keys starting with one of these prefixes (all when empty).
        type: list
        elements: str
      exclude:
        description: Do not copy keys starting with one of these prefixes.
        type: list
        elements: str
      signatures:
        description:
          - Copy C(img_signature*) too. The signature is over the source image's bytes and its
            certificate (C(img_signature_certificate_uuid)) lives in the source cloud's key manager, so
            it verifies on the target only when the bytes are unchanged (no conversion) and the target
            reaches that certificate. Left, with a warning, by default.
        type: bool
        default: false
      cloud:
        description: Cloud of the source image.
        type: str
      auth:
        description: Credentials for the source image's cloud.
        type: dict
      auth_type:
        description: Auth type for the source.
        type: str
      region_name:
        description: Region of the source image.
        type: str
      interface:
        description: Endpoint interface for the source.
        type: str
        choices: [public, internal, admin]
        aliases: [endpoint_type]
      ca_cert:
        description: CA bundle for the source.
        type: path
        aliases: [cacert]
      validate_certs:
        description: Verify the source's TLS certificates.
        type: bool
        aliases: [verify]
      timeout:
        description: Per-request timeout for the source, in seconds.
        type: int
      retries:
        description: Retries for the source's requests.
        type: int
seealso:
  - module: cloudimages.transfer.image_info
"""

EXAMPLES = r"""
- name: Coordinating metadata on the source image
  cloudimages.transfer.image_metadata:
    cloud: mycloud
    region_name: DFW
    image: 4b2f0c2e-0000-4000-8000-000000000000
    properties:
      com.mycompany.image-of: 4b2f0c2e-0000-4000-8000-000000000000

- name: Copy the OS properties of the source image to its copy in another region
  cloudimages.transfer.image_metadata:
    cloud: mycloud
    region_name: IAD
    filters:
      com.mycompany.image-of: 4b2f0c2e-0000-4000-8000-000000000000
    copy_from:
      region_name: DFW
      image: 4b2f0c2e-0000-4000-8000-000000000000
      include: [os_, org.openstack__, hw_]
    visibility: shared
"""

RETURN = r"""
patch:
  description: The JSON-patch operations sent (or that would be, in check mode); empty when nothing changed.
  returned: always
  type: list
  elements: dict
  sample: [{"op": "add", "path": "/com.mycompany.image-of", "value": "web01"}]
image:
  description: The image after the patch (in check mode, as it would be).
  returned: always
  type: dict
  sample: {"id": "4b2f0c2e-0000-4000-8000-000000000000", "name": "web01", "com.mycompany.image-of": "web01"}
"""

from ansible.module_utils.basic import AnsibleModule
from ansible_collections.cloudimages.transfer.plugins.module_utils import _image_metadata
from ansible_collections.cloudimages.transfer.plugins.module_utils._auth import connection_argument_spec
from ansible_collections.cloudimages.transfer.plugins.module_utils._module import (
    glance_for,
    inherited_connection,
    run_module,
    target_argument_spec,
)


def main():
    argument_spec = connection_argument_spec()
    argument_spec.update(
        image=dict(type="str"),
        filters=dict(type="dict", default={}),
        properties=dict(type="dict", default={}),
        absent_properties=dict(type="list", elements="str", default=[]),
        purge=dict(type="bool", default=False),
        name=dict(type="str"),
        tags=dict(type="list", elements="str"),
        purge_tags=dict(type="bool", default=False),
        min_disk=dict(type="int"),
        min_ram=dict(type="int"),
        visibility=dict(type="str", choices=["public", "private", "shared", "community"]),
        protected=dict(type="bool"),
        copy_from=dict(type="dict", options=target_argument_spec(dict(
            image=dict(type="str"),
            filters=dict(type="dict"),
            include=dict(type="list", elements="str"),
            exclude=dict(type="list", elements="str"),
            signatures=dict(type="bool", default=False),
        ))),
    )
    module = AnsibleModule(argument_spec=argument_spec, supports_check_mode=True,
                           required_one_of=[("image", "filters")])

    def job():
        params = module.params
        source = None
        if params["copy_from"]:
            source = glance_for(params["copy_from"], inherited_connection(params, params["copy_from"]))
        return _image_metadata.run(_image_metadata.Options.from_params(params), glance_for(params), source,
                                   module.check_mode)

    run_module(module, job)


if __name__ == "__main__":
    main()
