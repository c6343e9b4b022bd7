"""Make a small, valid dynamic VHD in pure Python (for tests that must not need qemu-img).

Layout (Microsoft's VHD format specification): a copy of the footer, the dynamic disk
header (cookie ``cxsparse``), the block allocation table, the blocks (each a sector bitmap
and its data), and the footer (cookie ``conectix``, disk type 3). Dynamic rather than fixed
because format inspectors, Glance's among them, read a VHD from its first bytes: a fixed
VHD's only footer is at the end, so it would pass for raw.
"""
from __future__ import annotations

import struct
import time
import uuid

VHD_EPOCH = 946684800  # 2000-01-01T00:00:00Z
BLOCK = 2 * 1024 * 1024
NO_OFFSET = 0xFFFFFFFFFFFFFFFF


def _checksum(block: bytearray, at: int) -> bytes:
    block[at:at + 4] = bytes(4)
    block[at:at + 4] = (~sum(block) & 0xFFFFFFFF).to_bytes(4, "big")
    return bytes(block)


def _geometry(size: int) -> tuple[int, int, int]:
    sectors = min(size // 512, 65535 * 16 * 255)
    if sectors >= 65535 * 16 * 63:
        spt, heads = 255, 16
    else:
        spt = 17
        heads = max((sectors // spt + 1023) // 1024, 4)
        if sectors // spt >= heads * 1024 or heads > 16:
            spt, heads = 31, 16
        if sectors // spt >= heads * 1024:
            spt, heads = 63, 16
    return sectors // spt // heads, heads, spt


def footer(size: int, disk_id: bytes) -> bytes:
    cylinders, heads, spt = _geometry(size)
    # creator "win ": readers take the size from the footer, not from the CHS geometry
    block = bytearray(struct.pack(
        ">8sIIQI4sIIQQHBBII16sB", b"conectix", 2, 0x00010000, 512, int(time.time()) - VHD_EPOCH,
        b"win ", 0x00010000, 0x5769326B, size, size, cylinders, heads, spt, 3, 0, disk_id, 0))
    block += bytes(512 - len(block))
    return _checksum(block, 64)


def dynamic_header(blocks: int, table_offset: int) -> bytes:
    block = bytearray(struct.pack(">8sQQIIII", b"cxsparse", NO_OFFSET, table_offset, 0x00010000,
                                  blocks, BLOCK, 0))
    block += bytes(1024 - len(block))
    return _checksum(block, 36)


def vhd_image(disk: bytes) -> bytes:
    """A dynamic VHD whose virtual disk holds ``disk`` (padded to whole sectors)."""
    disk += bytes(-len(disk) % 512)
    blocks = max(1, -(-len(disk) // BLOCK))
    table_offset = 512 + 1024
    table_size = -(-blocks * 4 // 512) * 512
    bitmap = b"\xff" * 512  # one bit per sector of a 2 MiB block, padded to a sector
    first = table_offset + table_size
    table = b"".join(((first + i * (512 + BLOCK)) // 512).to_bytes(4, "big") for i in range(blocks))
    table += b"\xff" * (table_size - len(table))
    tail = footer(len(disk), uuid.uuid4().bytes)
    body = b"".join(bitmap + disk[i * BLOCK:(i + 1) * BLOCK].ljust(BLOCK, b"\0") for i in range(blocks))
    return tail + dynamic_header(blocks, table_offset) + table + body + tail
