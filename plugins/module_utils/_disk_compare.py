# Copyright: cloudimages.transfer contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
#
# PRIVATE: this module_utils file is internal to cloudimages.transfer; it may change or go
# away in any release. Do not import it from outside this collection.
"""Two images compared as the disks a VM sees, whatever format each is stored in.

Checksums cannot compare a VHD with the raw image a converting import made of it, so both
images' data are downloaded into a private directory (written sparse: runs of zeros are
skipped, not written) and compared by ``qemu-img compare`` (exit 0: the guest-visible data are
identical; 1: they differ; a size difference counts only where the larger image has data past
the smaller one's end). Both downloads are untrusted images: the directory must have room for
both first, each is inspected like a conversion's input (``_image_inspect``: the format Glance
says, nothing it names, a bounded virtual size) before qemu-img opens it, and qemu-img runs
with both formats named, under limits and a timeout (``_qemu_img``). It needs ``qemu-img``; the
directory is removed afterwards, whatever happened.
"""

from __future__ import annotations

import os
import shutil
import tempfile

from ansible_collections.cloudimages.transfer.plugins.module_utils import _image_inspect, _qemu_img
from ansible_collections.cloudimages.transfer.plugins.module_utils._errors import TransferError
from ansible_collections.cloudimages.transfer.plugins.module_utils._qemu_img import QEMU_FORMATS
from ansible_collections.cloudimages.transfer.plugins.module_utils._sizes import human
from ansible_collections.cloudimages.transfer.plugins.module_utils._transfer import response_chunks

MAX_VIRTUAL_SIZE = 1024 ** 4  # Glance's default image_size_cap
# qemu-img compare reads both disks once: minutes per hundred GiB on a slow disk
TIMEOUT_FLOOR, TIMEOUT_PER_GIB = 600, 60
BLOCK = 64 * 1024


def qemu_img(needed_by: str = "verify_content compares the images with") -> str:
    return _qemu_img.find(needed_by)


def readable_format(image: dict, where: str) -> str:
    fmt = image.get("disk_format") or ""
    if fmt not in _image_inspect.ALLOWED:
        raise TransferError(f"verify_content cannot read {where}'s disk_format {image.get('disk_format')!r} "
                            f"(it reads {', '.join(sorted(_image_inspect.ALLOWED))})")
    return fmt


def check_possible(source_image: dict) -> None:
    """Fail before anything is imported when the comparison could not run afterwards."""
    qemu_img()
    _image_inspect.require()
    readable_format(source_image, "the source")


def save(glance, image: dict, path: str) -> None:
    """The image's data into a new file, sparse: blocks of zeros are skipped, not written."""
    resp = glance.open_image_data(image["id"])
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_NOFOLLOW", 0), 0o600)
        with os.fdopen(fd, "wb") as out:
            for chunk in response_chunks(resp):
                view = memoryview(chunk)
                for start in range(0, len(view), BLOCK):
                    block = view[start:start + BLOCK]
                    if block.nbytes == BLOCK and not any(block):
                        out.seek(BLOCK, os.SEEK_CUR)
                    else:
                        out.write(block)
            out.truncate(out.tell())
    finally:
        resp.close()


def check_room(folder: str, *images: dict) -> None:
    need, free = sum(image.get("size") or 0 for image in images), shutil.disk_usage(folder).free
    if need > free:
        raise TransferError(f"verify_content downloads both images into {folder}, which has {human(free)} free; "
                            f"they take up to {human(need)} (choose another verify_dir)")


def compare(source_glance, source_image: dict, target_glance, target_image: dict, work_dir: str | None) -> None:
    """Raise TransferError unless both images hold the same guest-visible disk."""
    tool = qemu_img()
    formats = readable_format(source_image, "the source"), readable_format(target_image, "the target")
    if work_dir and not os.path.isdir(work_dir):
        raise TransferError(f"verify_dir {work_dir} is not a directory")
    scratch = tempfile.mkdtemp(prefix=".cloudimages-compare-", dir=work_dir)  # mode 0700
    try:
        check_room(scratch, source_image, target_image)
        paths = os.path.join(scratch, "source"), os.path.join(scratch, "target")
        save(source_glance, source_image, paths[0])
        save(target_glance, target_image, paths[1])
        found = [_image_inspect.inspect(path, fmt, MAX_VIRTUAL_SIZE) for path, fmt in zip(paths, formats)]
        largest = max(disk.virtual_size for disk in found)
        rc, out, err = _qemu_img.run(tool, ["compare", "-f", QEMU_FORMATS[formats[0]], "-F", QEMU_FORMATS[formats[1]],
                                            *paths], timeout=TIMEOUT_FLOOR + TIMEOUT_PER_GIB * largest // 1024 ** 3)
    except TransferError as exc:
        raise TransferError(str(exc).replace(scratch + os.sep, ""), **exc.details) from None
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
