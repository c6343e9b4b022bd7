# Copyright: cloudimages.transfer contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
#
# PRIVATE: this module_utils file is internal to cloudimages.transfer; it may change or go
# away in any release. Do not import it from outside this collection.
"""image_member: share an image with projects (producer side) and answer a share (consumer side).

Glance lets only the owner add or remove members, and only the member itself set its own
status (pending, accepted, rejected). A 403 on a status change is turned into that
explanation.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from ansible_collections.cloudimages.transfer.plugins.module_utils._errors import TransferError
from ansible_collections.cloudimages.transfer.plugins.module_utils._http import HttpError
from ansible_collections.cloudimages.transfer.plugins.module_utils._options import from_params

MEMBER_ID = re.compile(r"^[A-Za-z0-9_.:@-]{1,255}$")


def check_member_ids(members: list) -> None:
    bad = [m for m in members if not isinstance(m, str) or not MEMBER_ID.match(m)]
    if bad:
        raise TransferError(f"Member ids must be project ids (letters, digits, - _ . : @); got {bad[0]!r}")


def plan_members(current: list, wanted: list, state: str, exclusive: bool) -> tuple[list, list]:
    """(to add, to remove), both sorted."""
    have = {m["member_id"] for m in current}
    if state == "present":
        add = sorted(set(wanted) - have)
        remove = sorted(have - set(wanted)) if exclusive else []
    else:
        add, remove = [], sorted(have & set(wanted))
    return add, remove


def summary(members: list) -> list:
    return sorted(({"member_id": m["member_id"], "status": m["status"]} for m in members),
                  key=lambda m: m["member_id"])


@dataclass(frozen=True)
class Options:
    """What image_member was asked to do, unpacked once from the module's parameters."""

    image: str | None = None
    filters: dict = field(default_factory=dict)
    members: list = field(default_factory=list)
    state: str = "present"
    exclusive: bool = False
    status: str | None = None
    member: str | None = None

    from_params = classmethod(from_params)


def run(opts: Options, glance, check_mode: bool) -> dict:
    image = glance.find_image(opts.image, opts.filters)
    where = glance.where(image["id"])
    if opts.status:
        return answer(opts, glance, image, where, check_mode)
    members = opts.members
    check_member_ids(members)
    current = glance.members(image["id"])
    add, remove = plan_members(current, members, opts.state, opts.exclusive)
    result = {"changed": bool(add or remove), "image_id": image["id"], "added": add, "removed": remove,
              "diff": {"before": summary(current)}}
    after = [m for m in current if m["member_id"] not in remove] + [
        {"member_id": m, "status": "pending"} for m in add]
    if not (add or remove):
        result["msg"] = f"{where} already has the wanted members; nothing to do"
    elif check_mode:
        result["msg"] = f"would add {len(add)} and remove {len(remove)} members of {where}"
    else:
        if add and image.get("visibility") not in ("shared", None):
            raise TransferError(f"{where} has visibility {image.get('visibility')}; only a 'shared' image can "
                                "have members (set visibility: shared with image_metadata first)")
        for member in add:
            glance.add_member(image["id"], member)
        for member in remove:
            glance.remove_member(image["id"], member)
        after = glance.members(image["id"])
        result["msg"] = f"added {len(add)} and removed {len(remove)} members of {where}"
    result["members"] = summary(after)
    result["diff"]["after"] = result["members"]
    return result


def answer(opts: Options, glance, image: dict, where: str, check_mode: bool) -> dict:
    """The consumer side: set one's own membership status."""
    member = opts.member or glance.conn.project_id()
    check_member_ids([member])
    status = opts.status
    current = glance.get_member(image["id"], member)
    if current is None:
        raise TransferError(f"Project {member} is not a member of {where}; the owner must share it first")
    result = {"changed": current["status"] != status, "image_id": image["id"], "member": member,
              "diff": {"before": {"status": current["status"]}, "after": {"status": status}}}
    if not result["changed"]:
        result["msg"] = f"the membership of {member} in {where} is already {status}; nothing to do"
        result["status"] = status
        return result
    if check_mode:
        result["msg"] = f"would set the membership of {member} in {where} from {current['status']} to {status}"
        result["status"] = status
        return result
    try:
        glance.set_member_status(image["id"], member, status)
    except HttpError as exc:
        if exc.status == 403:
            raise TransferError(
                f"Only the member project itself can accept, reject or reset its membership of {where}: "
                f"run this task with the credentials of project {member} (the consumer), not the owner's",
                status=403) from None
        raise
    result["status"] = glance.get_member(image["id"], member)["status"]
    result["msg"] = f"set the membership of {member} in {where} from {current['status']} to {status}"
    return result
