# Copyright: cloudimages.transfer contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
#
# PRIVATE: this module_utils file is internal to cloudimages.transfer; it may change or go
# away in any release. Do not import it from outside this collection.
"""Reading a large object of either kind as Swift serves it: a DLO or an SLO, as one Dlo model.

Download and copy work from the pieces this returns (container, name, size, MD5 and, for an
SLO, byte range or inline data) and do not care which kind of manifest listed them.
"""

from __future__ import annotations

from ansible_collections.cloudimages.transfer.plugins.module_utils._dlo import (
    SegmentStep,
    dlo_from_headers,
    dlo_problems,
    layout_warnings,
)
from ansible_collections.cloudimages.transfer.plugins.module_utils._errors import TransferError
from ansible_collections.cloudimages.transfer.plugins.module_utils._slo import is_slo, slo_from_headers


def read_large_object(swift, container: str, name: str):
    """The large object at container/name, or None if absent; a plain object is refused."""
    headers = swift.head_object(container, name)
    if headers is None:
        return None
    if is_slo(headers):
        return slo_from_headers(swift, container, name, headers)
    if headers.get("x-object-manifest"):
        return dlo_from_headers(swift, container, name, headers)
    raise TransferError(f"{swift.where(container, name)} is not a Dynamic or Static Large Object "
                        "(no X-Object-Manifest, not X-Static-Large-Object)", not_dlo=True)


def read_verified_source(swift, container: str, name: str, layout: str = "any") -> tuple:
    """The source and the warnings about its layout; refused if unusable (or, strict, odd)."""
    dlo = read_large_object(swift, container, name)
    if dlo is None:
        raise TransferError(f"Source {swift.where(container, name)} does not exist", missing=f"{container}/{name}")
    problems = dlo_problems(dlo)
    warnings = layout_warnings(dlo.prefix if dlo.kind == "dlo" else None, dlo.segments)
    if layout == "strict":
        problems, warnings = problems + warnings, []
    if problems:
        raise TransferError(f"Source {swift.where(container, name)} is not a consistent large object: "
                            f"{'; '.join(problems)}", problems=problems)
    return dlo, [f"{swift.where(container, name)}: {w}" for w in warnings]


def piece_steps(dlo) -> list:
    """(SegmentStep, piece) for each piece in the order Swift serves them, with its offset.

    Steps are named by the segment (for an SLO with its number and container, since one
    object may appear twice or in part); the MD5 is known for whole objects and inline data,
    not for byte ranges.
    """
    pairs, offset = [], 0
    for number, seg in enumerate(dlo.segments, 1):
        label = seg.name if dlo.kind == "dlo" else f"{number:05d} {seg.container}/{seg.name}"
        if seg.byte_range:
            label += f" bytes {seg.byte_range[0]}-{seg.byte_range[1]}"
        pairs.append((SegmentStep(number, label, seg.size, offset, md5=seg.md5), seg))
        offset += seg.size
    return pairs
