# Copyright: cloudimages.transfer contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
#
# PRIVATE: this module_utils file is internal to cloudimages.transfer; it may change or go
# away in any release. Do not import it from outside this collection.
"""Writing a DLO (shared by upload and copy): the plan, then segments, then the manifest last.

The order is what keeps readers safe: stale segments under the prefix go first (a DLO would
serve them), then every segment is written and verified, and only then the manifest, which
is read back and checked (total size and ETag-of-ETags) before the job counts as done.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from urllib.parse import quote, unquote

from ansible_collections.cloudimages.transfer.plugins.module_utils._dlo import (
    etag_of_etags,
    plan_segments,
    segments_from_listing,
    stale_segments,
    summarize,
    unquote_etag,
)
from ansible_collections.cloudimages.transfer.plugins.module_utils._errors import TransferError
from ansible_collections.cloudimages.transfer.plugins.module_utils._transfer import run_parallel

STALE_POLICIES = ("delete", "fail")


@dataclass
class WritePlan:
    container: str
    name: str
    segment_container: str
    prefix: str
    steps: list
    stale: list = field(default_factory=list)
    create: list = field(default_factory=list)
    manifest_headers: dict = field(default_factory=dict)
    manifest_action: str = "keep"
    before: dict | None = None

    @property
    def to_transfer(self) -> list:
        return [s for s in self.steps if s.action != "keep"]

    @property
    def changed(self) -> bool:
        return bool(self.to_transfer or self.stale or self.create or self.manifest_action != "keep")

    @property
    def size(self) -> int:
        return sum(s.size for s in self.steps)

    def after(self) -> dict:
        return {"manifest": manifest_value(self.segment_container, self.prefix), "size": self.size,
                "segments": len(self.steps)}

    def summary(self) -> dict:
        return {**summarize(self.steps), "stale_to_delete": self.stale, "containers_to_create": self.create,
                "manifest": self.manifest_action}


def manifest_value(container: str, prefix: str) -> str:
    return f"{quote(container, safe='')}/{quote(prefix, safe='/')}"


def plan_write(swift, container: str, name: str, segment_container: str, prefix: str, steps: list,
               headers: dict, create_container: bool, stale_policy: str, resolve_hash=None) -> WritePlan:
    """What writing these segments and this manifest at the target takes; nothing is changed."""
    plan = WritePlan(container, name, segment_container, prefix, steps)
    for needed in dict.fromkeys((container, segment_container)):
        if swift.head_container(needed) is None:
            if not create_container:
                raise TransferError(f"Container {needed} does not exist in region {swift.region} "
                                    "and create_container is false", missing=needed)
            plan.create.append(needed)
    existing = {}
    if segment_container not in plan.create:
        existing = {s.name: s for s in segments_from_listing(swift.list_objects(segment_container, prefix))}
    plan_segments(steps, existing)
    for step in steps:
        if step.action == "hash":
            step.md5 = resolve_hash(step)
            have = existing[step.name].etag
            step.action, step.reason = ("keep", "same size and MD5") if have == step.md5 else ("transfer", "MD5 differs")
    plan.stale = stale_segments(existing, steps)
    if plan.stale and stale_policy == "fail":
        raise TransferError(f"{len(plan.stale)} segments under {segment_container}/{prefix} in region {swift.region} "
                            f"are not part of the new object (first: {plan.stale[0]}); stale_segments=fail",
                            stale=plan.stale[:20])
    plan.manifest_headers = {**headers, "X-Object-Manifest": manifest_value(segment_container, prefix)}
    current = None if container in plan.create else swift.head_object(container, name)
    if current is not None:
        plan.before = {"manifest": current.get("x-object-manifest"), "size": int(current.get("content-length", 0)),
                       "etag": unquote_etag(current.get("etag"))}
        if current.get("x-object-manifest") is None:
            raise TransferError(f"{swift.where(container, name)} exists and is not a Dynamic Large Object; "
                                "refusing to overwrite it", not_dlo=True)
    plan.manifest_action = "keep" if current is not None and same_manifest(current, plan.manifest_headers) else "write"
    return plan


def same_manifest(current: dict, wanted: dict) -> bool:
    for key, value in wanted.items():
        have = current.get(key.lower())
        if key.lower() == "x-object-manifest":
            have, value = unquote(have or ""), unquote(value)
        if have != str(value):
            return False
    return True


def apply_write(swift, plan: WritePlan, worker, concurrency: int, progress=None) -> None:
    """Carry the plan out: containers, stale segments, segments (verified), manifest, check."""
    for container in plan.create:
        swift.put_container(container)
    for name in plan.stale:
        swift.delete_object(plan.segment_container, name)
    run_parallel(plan.to_transfer, worker, concurrency)
    if plan.manifest_action == "write":
        swift.put_object(plan.container, plan.name, b"", length=0, headers=plan.manifest_headers,
                         what=f"write the manifest {swift.where(plan.container, plan.name)}")
    verify_written(swift, plan)
    if progress:
        progress.finish("done")


def verify_written(swift, plan: WritePlan, attempts: int = 6) -> None:
    """Read the manifest back: its totals must be exactly the segments written.

    A container listing may lag a moment behind the writes it reflects, so a mismatch is
    read again a few times before it counts.
    """
    expected_etag = etag_of_etags(s.md5 for s in plan.steps) if plan.steps else None
    for attempt in range(attempts):
        headers = swift.head_object(plan.container, plan.name) or {}
        size = int(headers.get("content-length", -1))
        if size == plan.size and (not expected_etag or unquote_etag(headers.get("etag")) == expected_etag):
            return
        time.sleep(0.5 * (attempt + 1))
    raise TransferError(
        f"{swift.where(plan.container, plan.name)} reads back as {size} bytes with ETag "
        f"{unquote_etag(headers.get('etag'))}; expected {plan.size} bytes with ETag {expected_etag}. "
        "Another writer may be using the same segment prefix")
