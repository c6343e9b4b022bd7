# Copyright: cloudimages.transfer contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Write the transfer report as JSON on the controller: no module runs on a host, so the report
costs the playbook no module start-up (the stat and copy modules of ansible.builtin.copy took
about half a second of a rerun that moves nothing)."""

from __future__ import annotations

import json

from ansible.errors import AnsibleActionFail
from ansible.module_utils.common.json import AnsibleJSONEncoder
from ansible.plugins.action import ActionBase
from ansible_collections.cloudimages.transfer.plugins.module_utils._local_files import write_atomically

ARGS = {
    "path": {"type": "path", "required": True},
    "report": {"type": "dict", "required": True},
    "mode": {"type": "raw", "default": "0644"},
}


def render(report: dict) -> str:
    """The report as the file holds it (as Ansible's to_nice_json would write it)."""
    return json.dumps(report, indent=4, sort_keys=True, ensure_ascii=False, cls=AnsibleJSONEncoder) + "\n"


def write_report(path: str, text: str, mode: int) -> bool:
    """Write the report whole or not at all; False when the file already holds exactly this
    text (nothing written)."""
    try:
        with open(path, encoding="utf-8") as f:
            if f.read() == text:
                return False
    except (OSError, UnicodeDecodeError):
        pass
    write_atomically(path, text, mode, durable=True)
    return True


class ActionModule(ActionBase):
    TRANSFERS_FILES = False
    _VALID_ARGS = frozenset(ARGS)

    def run(self, tmp=None, task_vars=None):
        result = super().run(tmp, task_vars)
        args = self.validate_argument_spec(argument_spec=ARGS)[1]
        path = args["path"]
        try:
            mode = int(str(args["mode"]), 8)
        except ValueError:
            raise AnsibleActionFail(f"mode must be octal, like 0644, not {args['mode']!r}") from None
        text = render(args["report"])
        result["path"] = path
        if self._task.check_mode:
            result.update(changed=True, msg=f"would write the report to {path} on the controller")
            return result
        try:
            changed = write_report(path, text, mode)
        except OSError as err:
            raise AnsibleActionFail(f"Could not write the report to {path} on the controller: {err}") from None
        result.update(changed=changed, msg=f"{'wrote' if changed else 'kept'} the report at {path} on the controller")
        return result
