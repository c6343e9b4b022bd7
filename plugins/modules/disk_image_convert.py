#!/usr/bin/python
# Copyright: cloudimages.transfer contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: disk_image_convert
short_description: Convert a local disk image to another format with qemu-img, verified
version_added: 0.2.0
description:
  - Converts O(src) into O(dest) in O(dest_format) with C(qemu-img convert), for clouds that take
    another format than the source has (a vendor's import task takes VHD only; Glance's
    C(image_conversion) import plugin cannot read VHD).
  - Formats carry Glance's names; V(vhd) is qemu-img's C(vpc) driver (V(vpc) is accepted as a
    synonym). VHD is written dynamic with C(force_size), so the virtual size is kept exactly; VMDK
    is written stream-optimized, as clouds import it.
  - The input is an untrusted image. Before C(qemu-img) opens it, its headers are read in Python
    by oslo.utils' C(format_inspector) (the inspector Glance and Nova use), and it is refused,
    with the reason, when its format is not V(raw), V(qcow2), V(vhd), V(vhdx) or V(vmdk), its
    bytes are another format than O(src_format), it names another file (a qcow2 data file or
    backing file, VMDK extents, a VHDX or VHD parent), a VMDK is neither monolithicSparse nor
    streamOptimized, or it declares a virtual size over O(max_virtual_size). Converting such an
    image would copy a file of this host into the output (OSSA-2024-001).
  - Then C(qemu-img) runs with every format named (it never probes), without a shell, under
    resource limits (address space, CPU time) and O(timeout), in a process group of its own that
    is killed on timeout or cancel. The input is refused when C(qemu-img) cannot read it or
    C(qemu-img check) finds it damaged; leaked clusters alone (exit 3, common in
    crash-consistent snapshots) give a warning and the conversion goes on. The folder of O(dest)
    must have room for the output (a V(raw) output as large as the virtual size) before anything
    is written.
  - The output is written in a private folder beside O(dest) (mode 0700, the file 0600) and
    renamed over O(dest) only after C(qemu-img info) reads it back in O(dest_format) with the
    input's virtual size (and, with O(verify_content), C(qemu-img compare) finds the same
    guest-visible data). A failed or interrupted conversion leaves O(dest) as it was.
  - A record C(.<dest name>.convert.json) beside O(dest) names the input (path, size,
    modification time) and the output (size, modification time, MD5). A rerun with the same input
    and an untouched output (same size and modification time) changes nothing. An existing O(dest) that no record explains is
    replaced only with O(force=true).
  - C(qemu-img) must be installed on the host that runs the module (Debian/Ubuntu C(qemu-utils),
    RHEL C(qemu-img)), and the Python library oslo.utils 7.3 or later (C(oslo.utils[image-inspection])).
author:
  - cloudimages.transfer maintainers (@cloudimages)
attributes:
  check_mode:
    support: full
    description: Reads the input and says whether it would convert; writes nothing.
  diff_mode:
    support: full
    description: Shows the output's record before and the format and virtual size after.
  idempotent:
    support: full
    description: A rerun with the same input and an untouched output changes nothing.
extends_documentation_fragment:
  - cloudimages.transfer._background
options:
  src:
    description: The disk image to convert.
    type: path
    required: true
  dest:
    description: The file to write. Its directory must exist.
    type: path
    required: true
  src_format:
    description:
      - Format of O(src) as Glance's C(disk_format) names it. It is never probed (probing is how a
        "raw" image that is really a qcow2 gets opened as one); an O(src) whose bytes are another
        format is refused.
    type: str
    required: true
    choices: [raw, qcow2, vhd, vpc, vmdk, vhdx]
  max_virtual_size:
    description:
      - The largest virtual size (bytes) an input may declare. A few hundred KiB of qcow2 can
        declare a disk of terabytes, which a V(raw) output would then fill. V(0) for no limit. The
        default is Glance's own default C(image_size_cap), 1 TiB.
    type: int
    default: 1099511627776
  timeout:
    description:
      - Seconds each C(qemu-img) command (check, convert, compare) may take, wall clock and CPU;
        it is then stopped and nothing is written. C(qemu-img info) has its own 60 s.
    type: int
    default: 3600
  dest_format:
    description: Format to write.
    type: str
    required: true
    choices: [raw, qcow2, vhd, vpc, vmdk]
  force:
    description: Replace an existing O(dest) that is not this module's recorded conversion of O(src).
    type: bool
    default: false
  verify_content:
    description:
      - Also compare the guest-visible data of O(src) and the output (C(qemu-img compare)) before
        the rename. Reads both files once more.
    type: bool
    default: false
  checksum:
    description:
      - Compute the output's MD5 (RV(md5), kept in the record). One more read of the output; turn it
        off when something after this reads and checks the file anyway (an upload to Swift sends
        each segment's MD5).
    type: bool
    default: true
seealso:
  - module: cloudimages.transfer.image_import
  - plugin: cloudimages.transfer.travel_format
    plugin_type: filter
    description: which format a target takes; the region_transfer role converts with this module when it must.
"""

EXAMPLES = r"""
- name: A vendor's VHD export for a Glance that converts what it imports (it cannot read VHD)
  cloudimages.transfer.disk_image_convert:
    src: /var/tmp/web01.vhd
    src_format: vhd
    dest: /var/tmp/web01.qcow2
    dest_format: qcow2

- name: An upstream qcow2 image for a vendor import task that takes VHD only
  cloudimages.transfer.disk_image_convert:
    src: /var/tmp/db01.qcow2
    src_format: qcow2
    dest: /var/tmp/db01.vhd
    dest_format: vhd
    verify_content: true
"""

RETURN = r"""
dest:
  description: The output file.
  returned: always
  type: str
  sample: /var/tmp/web01.qcow2
src_format:
  description: Format of the input, as given and found in its headers (Glance's name).
  returned: always
  type: str
  sample: vhd
dest_format:
  description: Format of the output (Glance's name).
  returned: always
  type: str
  sample: qcow2
virtual_size:
  description: The disk size a VM sees, in bytes; the same for input and output.
  returned: always
  type: int
  sample: 10737418240
size:
  description: Bytes of the output file.
  returned: success
  type: int
  sample: 1814560768
md5:
  description: MD5 of the output file (from the record on a rerun); null with O(checksum=false).
  returned: success
  type: str
  sample: 9c716ca371b4bac20d3298e4231b7b22
seconds:
  description: Wall seconds of C(qemu-img convert).
  returned: when converted
  type: float
  sample: 12.4
plan:
  description: What was (or in check mode would be) done, and why.
  returned: always
  type: dict
  sample: {"action": "convert", "reason": "/var/tmp/web01.qcow2 does not exist"}
"""

from ansible.module_utils.basic import AnsibleModule
from ansible_collections.cloudimages.transfer.plugins.module_utils import _disk_convert
from ansible_collections.cloudimages.transfer.plugins.module_utils._module import background_argument_spec, run_module


def main():
    module = AnsibleModule(argument_spec=dict(
        src=dict(type="path", required=True),
        dest=dict(type="path", required=True),
        src_format=dict(type="str", required=True, choices=["raw", "qcow2", "vhd", "vpc", "vmdk", "vhdx"]),
        max_virtual_size=dict(type="int", default=1024 ** 4),
        timeout=dict(type="int", default=3600),
        dest_format=dict(type="str", required=True, choices=["raw", "qcow2", "vhd", "vpc", "vmdk"]),
        force=dict(type="bool", default=False),
        verify_content=dict(type="bool", default=False),
        checksum=dict(type="bool", default=True),
        **background_argument_spec(),
    ), supports_check_mode=True)

    def job():
        return _disk_convert.run(_disk_convert.Options.from_params(module.params), module.check_mode)

    run_module(module, job, cloud=False)


if __name__ == "__main__":
    main()
