#!/usr/bin/python
# Copyright: cloudimages.transfer contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: swift_dlo_upload
short_description: Upload a local file to Swift as a Dynamic (or Static) Large Object, resumably
version_added: 0.1.0
description:
  - Splits a local file into segments, uploads them in parallel with each segment's MD5 as its
    C(ETag) (the server refuses a damaged write), and writes the zero-byte manifest with
    C(X-Object-Manifest) only after every segment is verified. The manifest is then read back
    and its size and ETag-of-ETags checked.
  - Resumable and idempotent. A rerun keeps every segment whose size and MD5 already match, so an
    interrupted upload sends only what is missing and a complete one sends nothing
    (C(changed=false)).
  - Segments are named as the vendor export tasks name them, C(<object>-00001), C(-00002), ...
    in the same container, unless O(segment_container) or O(segment_prefix) say otherwise.
  - With O(state=absent) the manifest is deleted first, then only the segments under its prefix.
author:
  - cloudimages.transfer maintainers (@cloudimages)
extends_documentation_fragment:
  - cloudimages.transfer._large_object.max_rate
  - cloudimages.transfer._large_object.public_container
  - cloudimages.transfer._background
  - cloudimages.transfer._auth
  - cloudimages.transfer._attributes
  - cloudimages.transfer._large_object.expire_after
attributes:
  check_mode:
    support: full
    details: Returns the plan (segments to upload or keep, stale segments, manifest) without changing anything.
  diff_mode:
    support: full
  idempotent:
    support: full
    description: A rerun with the same file changes nothing and uploads no segment bytes.
options:
  container:
    description: Container of the manifest.
    type: str
    required: true
  object:
    description: Name of the manifest object (the DLO's name).
    type: str
    required: true
    aliases: [name]
  src:
    description: The local file to upload. Required with O(state=present).
    type: path
  state:
    description:
      - V(present) uploads; V(absent) deletes the manifest, then its numbered segments.
      - Numbered segments are the names under the manifest's prefix that end in the collection's
        five-digit numbering or, where the prefix ends in C(/) (the layout of the C(swift) CLI and
        rclone), any all-digit name. Other objects under the prefix are left and listed in RV(left).
    type: str
    choices: [present, absent]
    default: present
  segment_size:
    description:
      - Size of each segment but the last, in bytes or with a binary unit (V(128MiB), V(1GiB)).
      - Checked against the cluster's C(max_file_size) (from its C(/info)) and Swift's 5 GiB ceiling.
      - When not set (or V(auto)), 1 GiB or the cluster's C(max_file_size) if smaller, made larger
        (up to that maximum) where the file would otherwise need as many segments as the
        cluster's C(container_listing_limit), past which Swift no longer sums the object on HEAD.
    type: str
  manifest:
    description:
      - The kind of large object written. V(dlo) (a Dynamic Large Object, the vendors' export
        format) is served from a container listing of the segment prefix; V(slo) (a Static Large
        Object, what the C(swift) CLI and openstacksdk write by default) lists each segment
        with its size and MD5, which Swift checks when the manifest is written and on every read,
        and does not depend on eventually consistent listings.
      - An SLO manifest lists at most the cluster's C(max_manifest_segments) (1000 by default)
        segments; an automatic O(segment_size) keeps under it.
      - With O(state=absent) the kind is read from the object, and an SLO is deleted with
        C(multipart-manifest=delete), which removes the segments its manifest lists.
    type: str
    choices: [dlo, slo]
    default: dlo
  segment_container:
    description: Container for the segments. Defaults to O(container).
    type: str
  segment_prefix:
    description:
      - Name prefix of the segments, followed by a five-digit number. Defaults to C(<object>-).
      - Swift serves every object whose name starts with the prefix as part of the DLO, so the
        upload refuses a prefix that also matches objects it did not write as segments (the DLO
        C(ubuntu-22.04) under the prefix C(ubuntu-) of C(ubuntu)), naming them; choose another
        prefix or O(segment_container) then.
    type: str
  concurrency:
    description: How many segments are uploaded at once.
    type: int
    default: 4
  stamp:
    description:
      - With O(state=absent), the object metadata (C(X-Object-Meta-<key>)) the manifest must carry, with these
        values, for its segments to be deleted - the stamp of what made it, such as the source image an export
        was made of. A manifest without it is deleted alone, with a warning, and its segments are left.
    type: dict
    default: {}
  lease_holder:
    description:
      - With O(state=absent), let go of this reader's lease on the object (see
        M(cloudimages.transfer.image_export)'s O(cloudimages.transfer.image_export#module:lease_holder)) and
        delete the object only when no other live lease holds it; otherwise nothing is deleted and
        RV(leased_by) names the other holders. Expired leases of any object in the container are swept.
    type: str
  create_container:
    description: Create the container(s) when missing; when V(false), a missing container is an error.
    type: bool
    default: true
  headers:
    description: Extra headers for the manifest (for example C(Content-Type)).
    type: dict
    default: {}
  metadata:
    description:
      - Object metadata for the manifest, sent as C(X-Object-Meta-<key>).
      - Swift's server drops header names that contain C(_), so such keys are sent with C(-) in
        its place (C(build_id) is stored as C(Build-Id)), with a warning.
    type: dict
    default: {}
  trust_manifest:
    description:
      - With O(state=absent), whether the segments the manifest names may be deleted wherever they are.
      - V(false) deletes segments only where this collection writes them, in O(segment_container) under
        O(segment_prefix) (by default the object's container and C(<object>-)). A manifest that names any
        other place (someone with write access to the container re-pointed it, say at C(prod-backups/db/))
        is deleted alone, with a warning, and the objects it names are left. The role sets V(false).
    type: bool
    default: true
  stale_segments:
    description:
      - What to do with segments under the segment prefix that the new layout has no place for
        (left by an earlier, longer upload). A DLO serves every object under its prefix, so they
        cannot stay. Only names in the collection's own numbering (O(segment_prefix) and five
        digits) count as such segments; any other object under the prefix stops the upload.
      - V(delete) removes them before the manifest is written; V(fail) stops without changing anything.
    type: str
    choices: [delete, fail]
    default: delete
notes:
  - The file is read twice per uploaded segment (once to compute the MD5 that must precede the
    body, once to send it); the second read normally comes from the page cache. Memory stays at
    about O(concurrency) x 1 MiB whatever the segment size.
  - A file written by M(cloudimages.transfer.swift_dlo_download) carries the MD5s it verified
    (an extended attribute, valid while the file's size and modification time are unchanged).
    When the segment layout matches, those are sent as the ETags and the first read is
    skipped; Swift refuses a body that does not match (HTTP 422), and that segment is then
    hashed and sent again. Deciding which segments to keep on a rerun always hashes the file.
  - Names are used as Swift stores them (spaces, non-ASCII, C(%), C(?), C(#)); every path element is
    percent-encoded, and the C(X-Object-Manifest) value is read and written percent-encoded, as
    Swift and the C(swift) CLI do. A container or object name with a C(.) or C(..) path segment is
    refused, since HTTP would resolve it to another object.
  - Readers of an existing manifest see the object change as segments are replaced; write to a
    new object name when that matters.
seealso:
  - module: cloudimages.transfer.swift_dlo_download
  - module: cloudimages.transfer.swift_dlo_copy
"""

EXAMPLES = r"""
- name: Upload a disk image as 1 GiB segments
  cloudimages.transfer.swift_dlo_upload:
    cloud: mycloud
    region_name: DFW
    container: exports
    object: web01.vhd
    src: /var/tmp/web01.vhd

- name: Smaller segments, more parallelism, a progress file to watch
  cloudimages.transfer.swift_dlo_upload:
    cloud: mycloud
    container: exports
    object: web01.vhd
    src: /var/tmp/web01.vhd
    segment_size: 256MiB
    concurrency: 8
    progress_file: /var/tmp/web01.progress.json

- name: Remove the DLO (manifest and its segments)
  cloudimages.transfer.swift_dlo_upload:
    cloud: mycloud
    container: exports
    object: web01.vhd
    state: absent
"""

RETURN = r"""
leased_by:
  description: With O(state=absent) and O(lease_holder), the other runs whose live leases kept the object.
  returned: when another lease kept the object
  type: list
  elements: str
  sample: ["f00dfeed1234"]
object:
  description: The manifest, as C(<container>/<object>).
  returned: always
  type: str
  sample: exports/web01.vhd
region:
  description: The region written to.
  returned: always
  type: str
  sample: RegionOne
kind:
  description: The kind of large object, V(dlo) or V(slo).
  returned: when O(state=present), and when O(state=absent) deleted an SLO
  type: str
  sample: dlo
manifest:
  description: The C(X-Object-Manifest) value, C(<segment container>/<segment prefix>) (for an SLO, a description of its segments).
  returned: when O(state=present)
  type: str
  sample: exports/web01.vhd-
size:
  description: Size of the file in bytes.
  returned: when O(state=present)
  type: int
  sample: 21474836480
segment_size:
  description: Segment size in bytes.
  returned: when O(state=present)
  type: int
  sample: 1073741824
bytes_sent:
  description: Segment bytes uploaded by this run (0 in check mode and when nothing changed).
  returned: when O(state=present)
  type: int
  sample: 2147483648
md5s_from_record:
  description: Segments sent with the ETag recorded by M(cloudimages.transfer.swift_dlo_download) instead of a fresh hash.
  returned: when segments were uploaded
  type: int
  sample: 16
plan:
  description: Counts of segments to transfer and to keep, stale segments to delete, containers to create, and the manifest action.
  returned: when O(state=present)
  type: dict
  sample: {"segments": 20, "to_transfer": 2, "to_keep": 18, "bytes_to_transfer": 2147483648,
           "stale_to_delete": [], "containers_to_create": [], "manifest": "keep"}
segments:
  description: Every segment with its number, name, size, offset, MD5 (when known), action (V(keep) or V(transfer)) and the reason.
  returned: when O(state=present)
  type: list
  elements: dict
  sample: [{"number": 1, "name": "web01.vhd-00001", "size": 1073741824, "offset": 0,
            "md5": "0cc175b9c0f1b6a831c399e269772661", "action": "keep", "reason": "same size and MD5"}]
left:
  description: Objects under the deleted manifest's prefix that are not its numbered segments, and were kept.
  returned: when O(state=absent) and the object existed
  type: list
  elements: str
  sample: ["exports/web01.vhd-notes.txt"]
deleted:
  description: Objects deleted (or that would be, in check mode), manifest first.
  returned: when O(state=absent)
  type: list
  elements: str
  sample: ["exports/web01.vhd", "exports/web01.vhd-00001"]
"""

from ansible.module_utils.basic import AnsibleModule
from ansible_collections.cloudimages.transfer.plugins.module_utils import _dlo_upload
from ansible_collections.cloudimages.transfer.plugins.module_utils._auth import connection_argument_spec
from ansible_collections.cloudimages.transfer.plugins.module_utils._module import (
    background_argument_spec,
    max_rate_argument_spec,
    public_container_argument_spec,
    run_module,
    swift_for,
)


def main():
    argument_spec = connection_argument_spec()
    argument_spec.update(
        container=dict(type="str", required=True),
        object=dict(type="str", required=True, aliases=["name"]),
        src=dict(type="path"),
        state=dict(type="str", default="present", choices=["present", "absent"]),
        segment_size=dict(type="str"),
        manifest=dict(type="str", default="dlo", choices=["dlo", "slo"]),
        segment_container=dict(type="str"),
        segment_prefix=dict(type="str"),
        concurrency=dict(type="int", default=4),
        create_container=dict(type="bool", default=True),
        lease_holder=dict(type="str"),
        headers=dict(type="dict", default={}),
        metadata=dict(type="dict", default={}),
        stale_segments=dict(type="str", default="delete", choices=["delete", "fail"]),
        trust_manifest=dict(type="bool", default=True),
        stamp=dict(type="dict", default={}),
        **background_argument_spec(),
        **max_rate_argument_spec(),
        **public_container_argument_spec(),
        expire_after=dict(type="int"),
    )
    module = AnsibleModule(argument_spec=argument_spec, supports_check_mode=True,
                           required_if=[("state", "present", ["src"])])

    def job():
        return _dlo_upload.run(_dlo_upload.Options.from_params(module.params), swift_for(module.params), module.check_mode)

    run_module(module, job)


if __name__ == "__main__":
    main()
