# Copyright: cloudimages.transfer contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
#
# PRIVATE: this module_utils file is internal to cloudimages.transfer; it may change or go
# away in any release. Do not import it from outside this collection.
"""A disk image's headers read in Python before qemu-img opens it.

An image is hostile input: a qcow2 can name a data file or a backing file, a VMDK extents in
other files, a VHDX or VHD a parent, and qemu-img follows each of them, so converting such an
image copies a file of this host into the output (OSSA-2024-001, CVE-2024-32498). The headers
are read by oslo.utils' ``format_inspector``, the inspector Glance and Nova adopted after that
advisory and maintain with it, rather than by a parser of our own. An image is refused, with
the reason, when:

- its declared format is not on the allow list (raw, qcow2, vhd, vhdx, vmdk; an ISO is read as
  raw);
- its bytes are another format than the declared one (a "raw" image that is really a qcow2);
- an inspector safety check fails (a qcow2 data file or backing file, unknown qcow2 features,
  a VMDK that is not monolithicSparse or streamOptimized, or whose extents name files), a VHDX
  has a parent locator, or a VHD is a differencing disk;
- the virtual size it declares is over the caller's bound (a 200 KiB qcow2 can declare 4 TiB).

Inspection reads a few hundred KiB at most (a VHD's footer at the end too), never the whole disk.
"""

from __future__ import annotations

import logging
import os
import stat
import struct
import traceback
from dataclasses import dataclass

from ansible_collections.cloudimages.transfer.plugins.module_utils._errors import TransferError
from ansible_collections.cloudimages.transfer.plugins.module_utils._qemu_img import glance_format
from ansible_collections.cloudimages.transfer.plugins.module_utils._sizes import human

try:
    from oslo_utils.imageutils import format_inspector
except ImportError:
    format_inspector = None
    IMPORT_ERROR = traceback.format_exc()
else:
    IMPORT_ERROR = None
    # its warnings repeat what our message says; keep them off the module's stderr
    logging.getLogger(format_inspector.__name__).addHandler(logging.NullHandler())
    logging.getLogger(format_inspector.__name__).propagate = False

# declared format -> what the inspector may find in its bytes (a raw disk with a partition
# table reads as "gpt"; an ISO is raw to qemu-img)
ALLOWED = {"raw": ("raw", "gpt", "iso"), "iso": ("iso", "raw", "gpt"), "qcow2": ("qcow2",), "vhd": ("vhd",),
           "vhdx": ("vhdx",), "vmdk": ("vmdk",)}
VHDX_PARENT_LOCATOR = "A8D35F2D-B30B-454D-ABF7-D3D84834AB0C"
VHD_FIXED, VHD_DYNAMIC, VHD_DIFFERENCING = 2, 3, 4
LIBRARY = "oslo.utils"


@dataclass(frozen=True)
class Inspected:
    """What the headers say: the format (Glance's name) and the disk size a VM sees."""

    path: str
    format: str
    virtual_size: int


def require() -> None:
    if format_inspector is None:
        raise TransferError(f"Reading a disk image's headers before qemu-img opens it needs the Python library "
                            f"{LIBRARY} (7.3 or later; pip install 'oslo.utils[image-inspection]') on the host that runs "
                            "the module")


def refuse(path: str, declared: str, why: str) -> TransferError:
    return TransferError(f"{path} is refused as a {declared} image: {why}; qemu-img was not run on it",
                         refused=why)


def vhd_footer(path: str) -> tuple | None:
    """(disk type, current size) from a VHD's footer, the file's last 512 bytes, or None."""
    with open(path, "rb") as f:
        size = os.fstat(f.fileno()).st_size
        if size < 512:
            return None
        f.seek(size - 512)
        footer = f.read(512)
    if not footer.startswith(b"conectix"):
        return None
    current_size, = struct.unpack(">Q", footer[48:56])
    disk_type, = struct.unpack(">I", footer[60:64])
    return disk_type, current_size


def vhdx_metadata_items(inspector) -> list:
    """The GUIDs of a VHDX's metadata table (as far as the inspector captured it)."""
    if not inspector.has_region("metadata"):
        return []
    table = inspector.region("metadata").data
    count = struct.unpack("<H", table[10:12])[0] if len(table) >= 12 else 0
    return [inspector._guid(table[32 + i * 32:48 + i * 32])  # pylint: disable=protected-access
            for i in range(count) if len(table) >= 48 + i * 32]


def inspect(path: str, declared: str, max_virtual_size: int | None = None) -> Inspected:
    """Read the headers of ``path``, said to be ``declared``; raise TransferError to refuse it."""
    require()
    declared = glance_format(declared)
    if declared not in ALLOWED:
        raise refuse(path, declared, f"the format is not one qemu-img is let open here (allowed: "
                                     f"{', '.join(sorted(ALLOWED))})")
    try:
        info = os.stat(path)
    except OSError as exc:
        raise TransferError(f"Cannot read {path}: {exc.strerror}") from None
    if not stat.S_ISREG(info.st_mode):
        raise refuse(path, declared, "not a regular file")
    try:
        found = format_inspector.detect_file_format(path)
    except format_inspector.ImageFormatError as exc:
        raise refuse(path, declared, f"its headers cannot be read as one format ({exc})") from None
    except OSError as exc:
        raise TransferError(f"Cannot read {path}: {exc.strerror}") from None
    name = str(found) if found is not None else "unknown"
    footer = vhd_footer(path) if declared == "vhd" else None
    if declared == "vhd" and name in ("raw", "gpt") and footer and footer[0] == VHD_FIXED:
        name = "vhd"  # a fixed VHD: the raw disk, then the footer (the inspector reads headers only)
    elif name not in ALLOWED[declared]:
        raise refuse(path, declared, f"its bytes are a {name} image, not {declared}")
    if found is not None:
        try:
            found.safety_check()
        except format_inspector.SafetyCheckFailed as exc:
            reasons = "; ".join(f"{check}: {failure}" for check, failure in sorted(exc.failures.items()))
            raise refuse(path, declared, f"it failed the inspector's safety checks ({reasons})") from None
        except format_inspector.ImageFormatError as exc:
            raise refuse(path, declared, f"its headers are damaged ({exc})") from None
    if declared == "vhd":
        if not footer:
            raise refuse(path, declared, "it has no VHD footer")
        if footer[0] == VHD_DIFFERENCING:
            raise refuse(path, declared, "it is a differencing VHD (it names a parent disk)")
        if footer[0] not in (VHD_FIXED, VHD_DYNAMIC):
            raise refuse(path, declared, f"its VHD disk type {footer[0]} is neither fixed nor dynamic")
    if declared == "vhdx" and VHDX_PARENT_LOCATOR in vhdx_metadata_items(found):
        raise refuse(path, declared, "it has a parent locator (a differencing VHDX names a parent disk)")
    if declared in ("raw", "iso"):
        virtual_size = info.st_size
    elif declared == "vhd":
        virtual_size = footer[1]
    else:
        virtual_size = found.virtual_size
    if virtual_size <= 0 and info.st_size > 0:
        raise refuse(path, declared, "its headers give no virtual size")
    if max_virtual_size is not None and virtual_size > max_virtual_size:
        raise refuse(path, declared, f"it declares a virtual size of {virtual_size} bytes ({human(virtual_size)}), "
                                     f"over the limit of {max_virtual_size} ({human(max_virtual_size)}); raise "
                                     "max_virtual_size if this disk is really meant to be that large")
    return Inspected(path, declared, virtual_size)
