# Copyright: cloudimages.transfer contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
#
# PRIVATE: this module_utils file is internal to cloudimages.transfer; it may change or go
# away in any release. Do not import it from outside this collection.
"""Writing a DLO (shared by upload and copy): the plan, then segments, then the manifest last.

The order is what keeps readers safe: stale segments under the prefix go first (a DLO would
serve them), then every segment is written and verified, and only then the manifest, which
is read back and checked before the job counts as done: its decoded ``X-Object-Manifest``,
the complete listing under the prefix (exactly the segments written), and, where Swift sums
the DLO (fewer segments than its listing limit), HEAD's size and ETag-of-ETags.

Only the collection's own segment names are ever deleted. Another object under the prefix
(a neighbour ``ubuntu-22.04`` under ``ubuntu-``) would be served as part of this DLO, so the
write is refused instead, naming it.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field

from ansible_collections.cloudimages.transfer.plugins.module_utils._dlo import (
    etag_of_etags,
    listing_limit,
    manifest_value,
    plan_segments,
    segments_from_listing,
    split_manifest,
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
    listing = [] if segment_container in plan.create else swift.list_objects(segment_container, prefix)
    existing = {s.name: s for s in segments_from_listing(listing)}
    plan_segments(steps, existing)
    for step in steps:
        if step.action == "hash":
            step.md5 = resolve_hash(step)
            have = existing[step.name].etag
            step.action, step.reason = ("keep", "same size and MD5") if have == step.md5 else ("transfer", "MD5 differs")
    plan.stale, foreign = stale_segments(prefix, listing, steps)
    if foreign:
        raise TransferError(
            f"The segment prefix {segment_container}/{prefix} in region {swift.region} also matches "
            f"{len(foreign)} objects that are not segments this collection writes for {name} (first: {foreign[0]}); "
            "Swift would serve them as part of the object and they are not ours to delete. "
            "Choose another segment_prefix or segment_container", foreign=foreign[:20])
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
    """Whether the manifest's headers already say what is wanted (X-Object-Manifest by its meaning)."""
    for key, value in wanted.items():
        have = current.get(key.lower())
        if key.lower() == "x-object-manifest":
            if have is None or split_manifest(have) != split_manifest(value):
                return False
        elif have != str(value):
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


def written_problems(plan: WritePlan, headers: dict | None, listing: list, limit: int) -> list[str]:
    """How what Swift holds differs from what the plan wrote (empty when identical)."""
    if headers is None:
        return ["the manifest is missing"]
    problems = []
    manifest = headers.get("x-object-manifest")
    if manifest is None or split_manifest(manifest) != (plan.segment_container, plan.prefix):
        problems.append(f"the manifest points at {manifest!r}, not {manifest_value(plan.segment_container, plan.prefix)}")
    wanted = [(s.name, s.size, s.md5) for s in plan.steps]
    held = [(s.name, s.size, s.etag) for s in segments_from_listing(listing)]
    if held != wanted:
        differ = next((w[0] for w, h in zip(wanted, held) if w != h), None) or \
            (wanted[len(held)][0] if len(wanted) > len(held) else held[len(wanted)][0])
        problems.append(f"the listing under the prefix holds {len(held)} objects where {len(wanted)} segments were "
                        f"written (first difference: {differ})")
    elif len(listing) < limit:  # Swift sums a DLO whose listing fits in one page: check its sums too
        size, etag = int(headers.get("content-length", -1)), unquote_etag(headers.get("etag"))
        expected = etag_of_etags(md5 for _, _, md5 in wanted)
        if size != plan.size or etag != expected:
            problems.append(f"Swift reads it back as {size} bytes with ETag {etag}; expected {plan.size} bytes "
                            f"with ETag {expected}")
    return problems


def verify_written(swift, plan: WritePlan, attempts: int = 6) -> None:
    """Read the manifest and the complete listing back: they must be exactly the segments written.

    A container listing may lag a moment behind the writes it reflects, so a mismatch is
    read again a few times before it counts.
    """
    limit = listing_limit(swift)
    for attempt in range(attempts):
        problems = written_problems(plan, swift.head_object(plan.container, plan.name),
                                    swift.list_objects(plan.segment_container, plan.prefix), limit)
        if not problems:
            return
        if attempt < attempts - 1:
            time.sleep(0.5 * (attempt + 1))
    raise TransferError(f"{swift.where(plan.container, plan.name)} does not read back as written: "
                        f"{'; '.join(problems)}. Another writer may be using the same segment prefix")
