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
  - V(web-download) - Glance fetches a Swift TempURL of the object (the target must admit the object
    store's address). An account TempURL key the account already has (either slot) is used as it
    is and never changed. An account without one gets a key in the second slot (C(Temp-URL-Key-2)),
    read back a second after it is set (parallel imports use the one that stayed; an import that
    Glance could not fetch because the key changed meanwhile is signed anew and started once
    more), held by a lease (account
    metadata with an expiry) while Glance may still need it, and removed when the last import of
    the collection lets go, unless the user replaced it meanwhile. The URL is valid for 15 minutes
    plus one per GiB (Swift checks it when Glance's GET starts). Key and signature never appear in
    any output.
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
  - Afterwards the image is verified by what survives format conversion (vendors store imports in
    another format; Glance's C(image_conversion) plugin stores qcow2 as raw) - it is active, its
    C(virtual_size) equals O(source_virtual_size) where both are known, and only where nothing was
    converted (O(source_converted) false, not the V(task) method, the O(disk_format) kept) its
    checksum equals O(source_checksum), or its sha512 C(os_hash_value) equals O(source_os_hash_value).
    RV(verification) says which checks ran and why others did not.
  - Only after that, O(completion_stamp) is written to the image as C(cloudimages_transfer_verified);
    a rerun writes it on a verified image that lacks it.
  - Asynchronous failures (C(os_glance_failed_import)) end the wait with their message; an image of an
    earlier run that is C(deactivated) or C(killed) fails at once, saying what to do.
author:
  - cloudimages.transfer maintainers (@cloudimages)
extends_documentation_fragment:
  - cloudimages.transfer._large_object.max_rate
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
    description: The stamped properties find an earlier import; a rerun makes no second image.
options:
  name:
    description: Name of the new image; required by every method but V(copy-image).
    type: str
  container:
    description: Container of the source object (in this region's object store).
    type: str
  object:
    description: The source object, for example an export's C(<image_id>.vhd) manifest.
    type: str
  method:
    description:
      - How to import. V(task) the vendor's import task; V(upload) the object streamed into C(PUT /file);
        V(web-download) Glance fetches a TempURL of the object; V(glance-download) Glance copies the
        image from another region of the same Keystone.
      - V(direct) streams the source image (O(source_image_id) in O(source_region), of
        O(source_connection) when another cloud) from its Glance into this one in one pass, no
        object store - C(PUT /stage) and the C(glance-direct) import where this Glance offers it (so
        that its import plugins run), else C(PUT /file). MD5 and SHA-512 are computed on the way and
        compared with the source's before the import starts (the image this run made is deleted
        when they differ). A stream that fails restarts from the first byte; O(max_rate) caps it.
      - V(copy-image) makes no new image - Glance copies the image O(source_image_id) of this
        region into more of its own stores (O(stores) or O(all_stores)), server side, for a cloud
        with one Glance and a store per site. Nothing happens where it is already in each store.
      - V(auto) takes, with an object, the task, then web-download, then upload; without one,
        glance-download where offered, else direct.
    type: str
    choices: [auto, task, upload, web-download, glance-download, direct, copy-image]
    default: auto
  stores:
    description:
      - The stores O(method=copy-image) copies the image into (the ids M(cloudimages.transfer.image_info)
        lists in its RV(cloudimages.transfer.image_info#module:capabilities)).
    type: list
    elements: str
    default: []
  all_stores:
    description: O(method=copy-image) into every store of this Glance.
    type: bool
    default: false
  all_stores_must_succeed:
    description:
      - With O(method=copy-image), a store that cannot be written fails the task (Glance stops the copy).
        With V(false) the stores reached are kept and the task warns of the others.
    type: bool
    default: true
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
    description: Region of the source image (stamped; needed by V(glance-download) and V(direct)).
    type: str
  source_image_id:
    description: Id of the source image (stamped; needed by V(glance-download) and V(direct)).
    type: str
  source_checksum:
    description:
      - MD5 checksum of the source image. Stamped (part of the idempotency key); the new image's
        checksum must equal it unless the data was converted on the way.
    type: str
  source_virtual_size:
    description: The source image's C(virtual_size); the new image's must equal it where Glance reports one.
    type: int
  source_os_hash_algo:
    description: The source image's C(os_hash_algo); with V(sha512) on both sides the hashes are compared instead of MD5.
    type: str
  source_os_hash_value:
    description: The source image's C(os_hash_value).
    type: str
  source_converted:
    description:
      - The data imported is not the source image's own bytes (for example a vendor export task
        wrote another VHD than the image stores), so checksums cannot match and are not compared.
    type: bool
    default: false
  completion_stamp:
    description:
      - A value written to the image as C(cloudimages_transfer_verified) once it is verified (the
        M(cloudimages.transfer.image_info) filter on it finds finished transfers). The
        C(cloudimages.transfer.region_transfer) role gives the source content's identity (its
        C(os_hash_value), else its checksum, else size, C(updated_at) and id).
    type: str
  verify_content:
    description:
      - Also compare the guest-visible disks - both images' data are downloaded into O(verify_dir) and
        compared by C(qemu-img compare), whatever format each is stored in (a VHD source and the raw
        image a converting import made of it compare equal). Proof for those who want it, at the cost
        of reading both images and disk room for both; off by default.
      - Needs C(qemu-img) on the host that runs the module and a source C(disk_format) it reads
        (raw, qcow2, vhd, vhdx, vmdk, vdi, iso); both are checked before anything is imported. The
        completion stamp is written only when the disks are equal.
    type: bool
    default: false
  source_connection:
    description:
      - Where the source image is, for O(method=direct) (which reads it) and O(verify_content) -
        connection settings (left-out ones are taken from this module's options, the region from
        O(source_region)) and, for O(verify_content) only, the image id (O(source_image_id) when
        left out). Needed when the source is in another cloud than the target.
    type: dict
    aliases: [verify_content_source]
    suboptions:
      image:
        description: Id of the source image; O(source_image_id) when left out.
        type: str
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
        description: Region of the source image; O(source_region) when left out.
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
  verify_dir:
    description:
      - Directory for the two downloads of O(verify_content); a private (0700) folder is made in it
        and removed afterwards. The system's temporary directory when left out.
    type: path
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

- name: Import from another cloud and compare the disks a VM would see
  cloudimages.transfer.image_import:
    cloud: targetcloud
    region_name: IAD
    name: web01
    container: imports
    object: 4b2f0c2e-0000-4000-8000-000000000000.vhd
    source_region: DFW
    source_image_id: 4b2f0c2e-0000-4000-8000-000000000000
    source_virtual_size: 21474836480
    source_converted: true
    verify_content: true
    source_connection:
      cloud: sourcecloud
    verify_dir: /var/tmp

- name: One Glance, a store per site - copy the image into the edge store, server side
  cloudimages.transfer.image_import:
    cloud: private
    region_name: RegionOne
    method: copy-image
    source_image_id: 4b2f0c2e-0000-4000-8000-000000000000
    stores: [edge1]

- name: Another cloud, no object store in between - stream the image through
  cloudimages.transfer.image_import:
    cloud: targetcloud
    region_name: IAD
    name: web01
    method: direct
    source_connection:
      cloud: sourcecloud
    source_region: DFW
    source_image_id: 4b2f0c2e-0000-4000-8000-000000000000
    source_checksum: 0cc175b9c0f1b6a831c399e269772661
    max_rate: 50MB

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
  description:
    - Each check and its outcome - V(true) when it ran and passed, or a string saying why it was
      skipped (a conversion) or could not run (nothing to compare with). A failed check fails the task.
  returned: unless in check mode
  type: dict
  sample: {"active": true, "virtual_size": true, "checksum": "skipped: converted (vhd -> raw by the target's import)",
           "content": "not checked: verify_content not asked"}
verification_seconds:
  description: How long the checks of RV(verification) took (with O(verify_content), the downloads and the comparison).
  returned: when this run imported the image
  type: float
  sample: 0.4
stores:
  description: The stores that hold the image after O(method=copy-image) (before it, in check mode).
  returned: with O(method=copy-image)
  type: list
  elements: str
  sample: [local, extra]
"""

from ansible.module_utils.basic import AnsibleModule
from ansible_collections.cloudimages.transfer.plugins.module_utils import _image_import
from ansible_collections.cloudimages.transfer.plugins.module_utils._auth import connection_argument_spec
from ansible_collections.cloudimages.transfer.plugins.module_utils._module import (
    connect,
    glance_for,
    inherited_connection,
    max_rate_argument_spec,
    run_module,
    target_argument_spec,
    waiting_argument_spec,
)


def main():
    argument_spec = connection_argument_spec()
    argument_spec.update(waiting_argument_spec())
    argument_spec.update(max_rate_argument_spec())
    argument_spec.update(
        name=dict(type="str"),
        container=dict(type="str"),
        object=dict(type="str"),
        method=dict(type="str", default="auto",
                    choices=["auto", "task", "upload", "web-download", "glance-download", "direct", "copy-image"]),
        stores=dict(type="list", elements="str", default=[]),
        all_stores=dict(type="bool", default=False),
        all_stores_must_succeed=dict(type="bool", default=True),
        disk_format=dict(type="str", default="vhd"),
        container_format=dict(type="str", default="bare"),
        properties=dict(type="dict", default={}),
        source_region=dict(type="str"),
        source_image_id=dict(type="str"),
        source_checksum=dict(type="str"),
        source_virtual_size=dict(type="int"),
        source_os_hash_algo=dict(type="str"),
        source_os_hash_value=dict(type="str", no_log=False),
        source_converted=dict(type="bool", default=False),
        completion_stamp=dict(type="str"),
        verify_content=dict(type="bool", default=False),
        source_connection=dict(type="dict", aliases=["verify_content_source"],
                               options=target_argument_spec(dict(image=dict(type="str")))),
        verify_dir=dict(type="path"),
    )
    module = AnsibleModule(argument_spec=argument_spec, supports_check_mode=True,
                           required_together=[("container", "object")],
                           required_if=[("method", "glance-download", ["source_image_id", "source_region"]),
                                        ("method", "direct", ["source_image_id", "source_region"]),
                                        ("method", "copy-image", ["source_image_id"]),
                                        ("method", "task", ["container"]), ("method", "upload", ["container"]),
                                        ("method", "web-download", ["container"])])

    def job():
        params = module.params
        if params["method"] != "copy-image" and not params["name"]:
            module.fail_json(msg="name is required: the name of the new image")
        glance, swift = connect(params, need_swift=bool(params["object"]))
        where = dict(params["source_connection"] or {})
        image_id = where.pop("image", None) or params["source_image_id"]
        where["region_name"] = where.get("region_name") or params["source_region"]
        source = None
        if (not params["object"] or params["method"] == "direct") and params["source_image_id"]:
            source = glance_for(where, inherited_connection(params, where))
        content_source = None
        if params["verify_content"]:
            content_source = glance_for(where, inherited_connection(params, where)), image_id
        return _image_import.run(_image_import.Options.from_params(params), glance, swift, source, module.check_mode,
                                 content_source)

    run_module(module, job)


if __name__ == "__main__":
    main()
