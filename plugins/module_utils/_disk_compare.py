# Copyright: cloudimages.transfer contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
#
# PRIVATE: this module_utils file is internal to cloudimages.transfer; it may change or go
# away in any release. Do not import it from outside this collection.
"""Two images compared as the disks a VM sees, whatever format each is stored in.

Checksums cannot compare a VHD with the raw image a converting import made of it, so both
images' data are downloaded into a private directory and compared by ``qemu-img compare``
(exit 0: the guest-visible data are identical; 1: they differ; a size difference counts only
where the larger image has data past the smaller one's end). It needs ``qemu-img`` and room
for both images; the directory is removed afterwards, whatever happened.
"""

from __future__ import annotations

import os
import shutil
import tempfile

from ansible_collections.cloudimages.transfer.plugins.module_utils._errors import TransferError
from ansible_collections.cloudimages.transfer.plugins.module_utils._transfer import response_chunks

# Glance's disk_format names -> qemu-img's driver names (Glance's "vhd" is qemu-img's "vpc")
QEMU_FORMATS = {"raw": "raw", "qcow2": "qcow2", "vhd": "vpc", "vhdx": "vhdx", "vmdk": "vmdk", "vdi": "vdi",
                "iso": "raw"}


def qemu_img(needed_by: str = "verify_content compares the images with") -> str:
    found = shutil.which("qemu-img")
    if not found:
        raise TransferError(f"{needed_by} qemu-img, which this host lacks (Debian/Ubuntu: apt-get install "
                            "qemu-utils; RHEL: dnf install qemu-img)")
    return found


def qemu_format(image: dict, where: str) -> str:
    fmt = QEMU_FORMATS.get(image.get("disk_format") or "")
    if fmt is None:
        raise TransferError(f"verify_content cannot read {where}'s disk_format {image.get('disk_format')!r} "
                            f"(it reads {', '.join(sorted(QEMU_FORMATS))})")
    return fmt


def check_possible(source_image: dict) -> None:
    """Fail before anything is imported when the comparison could not run afterwards."""
    qemu_img()
    qemu_format(source_image, "the source")


def save(glance, image: dict, path: str) -> None:
    resp = glance.open_image_data(image["id"])
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "wb") as out:
            for chunk in response_chunks(resp):
                out.write(chunk)
    finally:
        resp.close()


def compare(source_glance, source_image: dict, target_glance, target_image: dict, work_dir: str | None,
            run_command) -> None:
    """Raise TransferError unless both images hold the same guest-visible disk.

    ``run_command`` is the module's (argv list -> (rc, stdout, stderr)); no shell.
    """
    tool = qemu_img()
    formats = qemu_format(source_image, "the source"), qemu_format(target_image, "the target")
    if work_dir and not os.path.isdir(work_dir):
        raise TransferError(f"verify_dir {work_dir} is not a directory")
    scratch = tempfile.mkdtemp(prefix=".cloudimages-compare-", dir=work_dir)  # mode 0700
    try:
        paths = os.path.join(scratch, "source"), os.path.join(scratch, "target")
        save(source_glance, source_image, paths[0])
        save(target_glance, target_image, paths[1])
        rc, out, err = run_command([tool, "compare", "-f", formats[0], "-F", formats[1], *paths])
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    if rc == 1:
        detail = out.strip().replace(paths[0], "source").replace(paths[1], "target")
        raise TransferError(f"The guest-visible data of {target_glance.where(target_image['id'])} differ from "
                            f"{source_glance.where(source_image['id'])}'s: {detail}",
                            image=target_image)
    if rc != 0:
        raise TransferError(f"qemu-img could not compare {source_glance.where(source_image['id'])} "
                            f"({formats[0]}) with {target_glance.where(target_image['id'])} ({formats[1]}): "
                            f"{err.strip()[-500:]}")
