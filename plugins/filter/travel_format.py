# Copyright: cloudimages.transfer contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

from ansible.errors import AnsibleFilterError
from ansible_collections.cloudimages.transfer.plugins.module_utils._errors import TransferError
from ansible_collections.cloudimages.transfer.plugins.module_utils._formats import choose_import_method, travel_format


def travel_format_filter(staged, wanted, method, capabilities, converts=False, has_object=True):
    """The import method and the format the data travels in (see the sidecar documentation)."""
    capabilities = capabilities or {}
    try:
        if method == "auto":
            method = choose_import_method(has_object, True, bool(capabilities.get("tasks_api")) and has_object,
                                          capabilities.get("import_methods") or [])
        plan = travel_format(staged, wanted, method, capabilities.get("disk_formats"), bool(converts))
    except TransferError as exc:
        raise AnsibleFilterError(exc.msg) from None
    return {**plan, "method": method, "staged": staged}


class FilterModule:
    def filters(self):
        return {"travel_format": travel_format_filter}
