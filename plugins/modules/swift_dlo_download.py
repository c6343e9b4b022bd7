#!/usr/bin/python
# Copyright: cloudimages.transfer contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: swift_dlo_download
short_description: Download a Swift Dynamic or Static Large Object to a local file, verified end to end
version_added: 0.1.0
description:
  - Reads the manifest (its C(X-Object-Manifest) percent-decoded, as Swift reads it) and every
    page of its segment listing, and downloads exactly what Swift serves for it, with every
    segment's MD5 checked. Size and ETag-of-ETags come from the complete listing; Swift's own
    totals on HEAD (given only while the listing fits in one page) must agree with them.
    See O(layout) for unusual layouts.
  - A Static Large Object is read from its manifest (C(multipart-manifest=get)) with segments in any
    container, nested SLOs, byte ranges of segments and inline data, each piece checked against
    the manifest's size and MD5 (a byte range by its length and its segment's unchanged ETag).
  - Bytes go to a temporary file beside O(dest) (C(.<name>.part)); it is renamed into place
    only when the whole file is verified, so O(dest) never holds a partial download.
  - The temporary files (C(.<name>.part), mode 0600, and C(.<name>.part.json)) are opened without
    following a symbolic link and must be regular files of the user running the module, so a
    link planted under those names in a shared directory (C(/var/tmp)) is refused, never written
    through. Errors of the local file system (permissions, space, such a link) fail at once; they
    are not retried like network failures.
  - V(segments) mode fetches segments in parallel and writes each at its offset; a rerun
    fetches again only the segments the temporary file lacks or holds wrongly. V(whole) mode
    streams one GET of the manifest and checks each segment's MD5 at its boundary.
  - An O(dest) that already holds exactly the object is left alone (C(changed=false)); a
    different existing file is replaced only with O(force=true).
author:
  - cloudimages.transfer maintainers (@cloudimages)
extends_documentation_fragment:
  - cloudimages.transfer._large_object.max_rate
  - cloudimages.transfer._background
  - cloudimages.transfer._auth
  - cloudimages.transfer._attributes
  - cloudimages.transfer._large_object.layout
attributes:
  check_mode:
    support: full
    details: Returns which segments would be fetched.
  diff_mode:
    support: full
  idempotent:
    support: full
    description: A rerun after success verifies the local file and downloads nothing.
options:
  container:
    description: Container of the manifest.
    type: str
    required: true
  object:
    description: Name of the manifest object.
    type: str
    required: true
    aliases: [name]
  dest:
    description: Local file to write. Its directory must exist and be writable.
    type: path
    required: true
  mode:
    description:
      - V(segments) (parallel, resumable) or V(whole) (one streamed GET of the manifest).
      - Swift's DLO middleware serves a manifest GET at full speed for its first
        C(rate_limit_after_segment) segments (10 by default) and then one segment a second, so
        V(whole) suits objects of few segments; V(segments) fetches each segment on its own and is
        not slowed.
      - This is how the object is fetched, not the file's permissions. The written file gets
        V(0644) less the umask; the returned RV(mode) is the file's permission bits, which
        Ansible adds to the result of every module with a O(dest).
    type: str
    choices: [segments, whole]
    default: segments
  concurrency:
    description: How many segments are fetched at once (V(segments) mode).
    type: int
    default: 4
  force:
    description: Replace an existing O(dest) that differs from the object.
    type: bool
    default: false
notes:
  - The verified MD5 of each segment is kept on the written file as the extended attribute
    C(user.cloudimages.transfer.segment_md5s), with the file's size and modification time.
    M(cloudimages.transfer.swift_dlo_upload) of the unchanged file with the same segment size
    sends them as the segments' ETags instead of hashing the file again; Swift still checks
    every byte against them. Filesystems without user extended attributes, and more segments
    than fit (about 240 on ext4), simply go without; see RV(md5s_recorded).
seealso:
  - module: cloudimages.transfer.swift_dlo_upload
  - module: cloudimages.transfer.swift_dlo_copy
"""

EXAMPLES = r"""
- name: Download an exported image, segment by segment
  cloudimages.transfer.swift_dlo_download:
    cloud: mycloud
    region_name: DFW
    interface: internal
    container: exports
    object: 4b2f0c2e-0000-4000-8000-000000000000.vhd
    dest: /var/tmp/web01.vhd
    concurrency: 8
"""

RETURN = r"""
object:
  description: The manifest, as C(<container>/<object>).
  returned: always
  type: str
  sample: exports/web01.vhd
region:
  description: The region read from.
  returned: always
  type: str
  sample: RegionOne
dest:
  description: The local file.
  returned: always
  type: str
  sample: /var/tmp/web01.vhd
size:
  description: Size of the object in bytes.
  returned: always
  type: int
  sample: 21474836480
etag:
  description: The manifest's ETag (MD5 of the segment ETags).
  returned: always
  type: str
  sample: 5d41402abc4b2a76b9719d911017c592
download_mode:
  description: How the object was fetched (the O(mode) option).
  returned: always
  type: str
  sample: segments
mode:
  description: The permission bits of O(dest), added by Ansible.
  returned: when O(dest) exists
  type: str
  sample: "0644"
bytes_fetched:
  description: Bytes downloaded by this run.
  returned: always
  type: int
  sample: 1073741824
md5s_recorded:
  description: Whether the segments' MD5s were kept on the written file for a later upload (see the notes).
  returned: when a download ran
  type: bool
  sample: true
segments:
  description: Every segment with its number, name, size, offset, MD5 and action (V(keep), V(transfer) in check mode, V(fetched)).
  returned: always
  type: list
  elements: dict
  sample: [{"number": 1, "name": "web01.vhd-00001", "size": 1073741824, "offset": 0,
            "md5": "0cc175b9c0f1b6a831c399e269772661", "action": "fetched", "reason": "missing"}]
plan:
  description: Counts of segments to fetch and to keep.
  returned: when something was (or would be) fetched
  type: dict
  sample: {"segments": 20, "to_transfer": 20, "to_keep": 0, "bytes_to_transfer": 21474836480}
"""

from ansible.module_utils.basic import AnsibleModule
from ansible_collections.cloudimages.transfer.plugins.module_utils import _dlo_download
from ansible_collections.cloudimages.transfer.plugins.module_utils._auth import connection_argument_spec
from ansible_collections.cloudimages.transfer.plugins.module_utils._module import background_argument_spec, max_rate_argument_spec, run_module, swift_for


def main():
    argument_spec = connection_argument_spec()
    argument_spec.update(
        container=dict(type="str", required=True),
        object=dict(type="str", required=True, aliases=["name"]),
        dest=dict(type="path", required=True),
        mode=dict(type="str", default="segments", choices=["segments", "whole"]),
        layout=dict(type="str", default="any", choices=["any", "strict"]),
        concurrency=dict(type="int", default=4),
        force=dict(type="bool", default=False),
        **background_argument_spec(),
        **max_rate_argument_spec(),
    )
    module = AnsibleModule(argument_spec=argument_spec, supports_check_mode=True)

    def job():
        return _dlo_download.run(_dlo_download.Options.from_params(module.params), swift_for(module.params),
                                 module.check_mode)

    run_module(module, job)


if __name__ == "__main__":
    main()
