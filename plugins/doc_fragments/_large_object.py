# Copyright: cloudimages.transfer contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations


class ModuleDocFragment:
    # Options shared by the large-object modules (plugins/module_utils/_dlo.py, _slo.py, _dlo_write.py).
    DOCUMENTATION = r"""
options: {}
"""

    # How a source's segment layout is judged (swift_dlo_download, swift_dlo_copy).
    LAYOUT = r"""
options:
  layout:
    description:
      - How the source's segment layout is judged. Swift serves every object under the manifest's
        prefix, in listing order, whatever their sizes and names, and that is what is reproduced.
      - V(any) accepts any such layout and reports what looks wrong for a disk image (unequal
        middle segments, a gap in the numbering, names outside the numbered series) as warnings.
      - V(strict) refuses those instead (the C(cloudimages.transfer.region_transfer) role uses it for
        the exports it made).
      - A manifest with no segments, or whose HEAD totals disagree with its listing, is always refused.
    type: str
    choices: [any, strict]
    default: any
"""

    # Writing into a container anyone may read (swift_dlo_upload, swift_dlo_copy, image_export).
    PUBLIC_CONTAINER = r"""
options:
  allow_public_container:
    description:
      - Write into an existing container whose read ACL lets anyone read it (C(X-Container-Read) with a
        referrer grant such as C(.r:*)). By default such a container is refused before anything is written,
        since a whole disk image would be readable by anyone who knows its name.
    type: bool
    default: false
"""

    # Intermediate objects that expire by themselves (swift_dlo_upload, swift_dlo_copy).
    EXPIRE_AFTER = r"""
options:
  expire_after:
    description:
      - Seconds after which Swift deletes what this run writes, by itself (C(X-Delete-After) on
        every segment and the manifest), so that an intermediate copy that an abandoned transfer leaves
        behind then disappears. Unset, nothing expires.
      - The expiry counts from when each object was written; segments kept from an earlier run
        keep theirs. Swift's object expirer removes expired objects; until it runs they are
        no longer served.
    type: int
"""

    # A bandwidth cap (swift_dlo_upload, swift_dlo_download, swift_dlo_copy, image_export's stream).
    MAX_RATE = r"""
options:
  max_rate:
    description:
      - At most this many bytes per second, shared by all of the module's parallel segments, so that
        a WAN link is not saturated. A number of bytes or a size such as V(50MiB) or V(1G)
        (binary multiples), optionally followed by V(/s). V(0) (the default) sets no cap.
      - Counted where the data enters - the bytes read from the source region, or from the local
        file for an upload; bursts are at most a quarter of a second's worth (1 MiB at least).
    type: str
    default: "0"
"""
