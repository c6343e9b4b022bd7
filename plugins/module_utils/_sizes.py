# Copyright: cloudimages.transfer contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
#
# PRIVATE: this module_utils file is internal to cloudimages.transfer; it may change or go
# away in any release. Do not import it from outside this collection.
"""Sizes as users write them in options: a whole number of bytes or a binary multiple."""

from __future__ import annotations

import re

from ansible_collections.cloudimages.transfer.plugins.module_utils._errors import TransferError

UNITS = {"": 1, "b": 1, "k": 1024, "kb": 1024, "kib": 1024, "m": 1024 ** 2, "mb": 1024 ** 2, "mib": 1024 ** 2,
         "g": 1024 ** 3, "gb": 1024 ** 3, "gib": 1024 ** 3, "t": 1024 ** 4, "tb": 1024 ** 4, "tib": 1024 ** 4}


def parse_size(value, option: str = "segment_size") -> int:
    """Bytes from an int or a string such as '128MiB' or '1G' (binary multiples)."""
    match = re.fullmatch(r"\s*(\d+)\s*([a-zA-Z]*)\s*", str(value))
    if not match or match.group(2).lower() not in UNITS:
        raise TransferError(f"{option} must be a whole number of bytes or a size such as 128MiB or 1GiB, "
                            f"got {value!r}")
    return int(match.group(1)) * UNITS[match.group(2).lower()]


def parse_rate(value, option: str = "max_rate") -> int:
    """Bytes per second from a size with an optional '/s' ('50MiB/s', '1G', 1048576); 0 = no cap."""
    text = str(value).strip()
    if text.lower().endswith("/s"):
        text = text[:-2]
    try:
        return parse_size(text, option)
    except TransferError:
        raise TransferError(f"{option} must be bytes per second, a whole number or a size such as 50MiB or "
                            f"50MiB/s (0 for no cap), got {value!r}") from None


def human(size: int) -> str:
    """A byte count the way a user reads it: '4 TiB', '1.5 GiB', '512 bytes'."""
    for unit, factor in (("TiB", 1024 ** 4), ("GiB", 1024 ** 3), ("MiB", 1024 ** 2), ("KiB", 1024)):
        if size >= factor:
            return f"{size / factor:.1f}".rstrip("0").rstrip(".") + f" {unit}"
    return f"{size} bytes"
