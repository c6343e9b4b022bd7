# Copyright: cloudimages.transfer contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

from ansible.errors import AnsibleFilterError
from ansible_collections.cloudimages.transfer.plugins.module_utils._errors import TransferError
from ansible_collections.cloudimages.transfer.plugins.module_utils._formats import choose_path
from ansible_collections.cloudimages.transfer.plugins.module_utils._sizes import parse_size


def import_path_filter(requested, source, capabilities, same_keystone, direct_max_size, wanted="auto",
                       converts=False, staged_on_disk=False, export_task=False):
    """How the region_transfer role moves an image (see the sidecar documentation)."""
    try:
        limit = parse_size(direct_max_size, "region_transfer_direct_max_size") if direct_max_size not in (None, "") else 0
        return choose_path(requested, source or {}, capabilities or {}, bool(same_keystone), limit, wanted,
                           bool(converts), bool(staged_on_disk), bool(export_task))
    except TransferError as exc:
        raise AnsibleFilterError(exc.msg) from None


class FilterModule:
    def filters(self):
        return {"import_path": import_path_filter}
