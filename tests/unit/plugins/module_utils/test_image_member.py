"""image_member's plan: which projects to add and which to remove."""
from __future__ import annotations

import pytest
from ansible_collections.cloudimages.transfer.plugins.module_utils._errors import TransferError
from ansible_collections.cloudimages.transfer.plugins.module_utils._image_member import check_member_ids, plan_members


def test_member_plans():
    current = [{"member_id": "p1", "status": "accepted"}, {"member_id": "p2", "status": "pending"}]
    assert plan_members(current, ["p2", "p3"], "present", False) == (["p3"], [])
    assert plan_members(current, ["p2", "p3"], "present", True) == (["p3"], ["p1"])
    assert plan_members(current, ["p2", "p9"], "absent", False) == ([], ["p2"])
    check_member_ids(["0123abcd", "tenant-1"])
    with pytest.raises(TransferError, match="not a/project"):
        check_member_ids(["not a/project"])
