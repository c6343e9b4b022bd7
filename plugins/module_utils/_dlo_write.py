# Copyright: cloudimages.transfer contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
#
# PRIVATE: this module_utils file is internal to cloudimages.transfer; it may change or go
# away in any release. Do not import it from outside this collection.
"""Writing a large object (shared by upload, copy and the stream export): the plan, then the
segments, then the manifest last; which kind of manifest (DLO or SLO) is a separate choice.

Segments are named ``<prefix>00001``, ``-00002``, ... in the segment container, whichever
kind follows. The order is what keeps readers safe: every segment is written and verified,
and only then the manifest, which is read back before the job counts as done.

- DLO: Swift serves every object under the prefix, so stale segments go first and another
  object under the prefix (a neighbour ``ubuntu-22.04`` under ``ubuntu-``) makes the write
  refuse, naming it. The read-back checks the decoded ``X-Object-Manifest``, the complete
  listing under the prefix (exactly the segments written), and, where Swift sums the DLO
  (fewer segments than its listing limit), HEAD's size and ETag-of-ETags.
- SLO: the manifest names each segment with its size and ETag, and Swift checks them all
  when it is PUT (with the whole ETag sent for Swift to compare), so objects under the prefix
  are harmless; stale segments of ours go after the manifest. The read-back compares the
  manifest's entries and HEAD's size and ETag.

Only the collection's own segment names are ever deleted.
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
from ansible_collections.cloudimages.transfer.plugins.module_utils._slo import (
    is_slo,
    manifest_entries,
    max_manifest_segments,
    put_body,
    same_entries,
)
from ansible_collections.cloudimages.transfer.plugins.module_utils._swift import refuse_public
from ansible_collections.cloudimages.transfer.plugins.module_utils._transfer import run_parallel

STALE_POLICIES = ("delete", "fail")
KINDS = ("dlo", "slo")
# sent once when an object is written; Swift turns it into X-Delete-At, so it is not compared
WRITE_ONLY_HEADERS = ("x-delete-after",)


def expiry_headers(expire_after) -> dict:
    """``X-Delete-After`` for every segment and the manifest of an intermediate object, so that
    what an abandoned transfer leaves behind expires by itself; {} when not asked for."""
    if expire_after in (None, "", 0):
        return {}
    try:
        seconds = int(expire_after)
    except (TypeError, ValueError):
        seconds = -1
    if seconds <= 0:
        raise TransferError(f"expire_after must be a positive number of seconds, got {expire_after!r}")
    return {"X-Delete-After": str(seconds)}


@dataclass
class WritePlan:
    container: str
    name: str
    segment_container: str
    prefix: str
    steps: list
    kind: str = "dlo"
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

    @property
    def etag(self) -> str:
        return etag_of_etags(s.md5 for s in self.steps)

    def after(self) -> dict:
        manifest = manifest_value(self.segment_container, self.prefix) if self.kind == "dlo" else \
            f"SLO of {len(self.steps)} segments under {self.segment_container}/{self.prefix}"
        return {"kind": self.kind, "manifest": manifest, "size": self.size, "segments": len(self.steps)}

    def summary(self) -> dict:
        return {**summarize(self.steps), "stale_to_delete": self.stale, "containers_to_create": self.create,
                "manifest": self.manifest_action, "kind": self.kind}


def refuse_foreign(swift, container: str, prefix: str, name: str, foreign: list) -> None:
    """A DLO's prefix must match only its own segments: Swift would serve any other object under
    it as part of the DLO, and those objects are not ours to delete."""
    if foreign:
        raise TransferError(
            f"The segment prefix {container}/{prefix} in region {swift.region} also matches "
            f"{len(foreign)} objects that are not segments this collection writes for {name} (first: {foreign[0]}); "
            "Swift would serve them as part of the object and they are not ours to delete. "
            "Choose another segment_prefix or segment_container (for an export: another container or "
            "object name)", foreign=foreign[:20])


def plan_write(swift, container: str, name: str, segment_container: str, prefix: str, steps: list,
               headers: dict, create_container: bool, stale_policy: str, resolve_hash=None,
               kind: str = "dlo", allow_public: bool = False) -> WritePlan:
    """What writing these segments and this manifest at the target takes; nothing is changed.

    ``resolve_hash(step)`` gives the MD5 of a step whose target segment has the right size but
    whose MD5 is not known up front; without it such a segment is written again.
    """
    plan = WritePlan(container, name, segment_container, prefix, steps, kind)
    if kind == "slo" and len(steps) > max_manifest_segments(swift):
        raise TransferError(f"{len(steps)} segments are more than an SLO manifest of region {swift.region} may list "
                            f"({max_manifest_segments(swift)}); use a larger segment_size or manifest=dlo")
    for needed in dict.fromkeys((container, segment_container)):
        held = swift.head_container(needed)
        refuse_public(swift, needed, held, allow_public)
        if held is None:
            if not create_container:
                raise TransferError(f"Container {needed} does not exist in region {swift.region} "
                                    "and create_container is false", missing=needed)
            plan.create.append(needed)
    listing = [] if segment_container in plan.create else swift.list_objects(segment_container, prefix)
    existing = {s.name: s for s in segments_from_listing(listing)}
    plan_segments(steps, existing)
    for step in steps:
        if step.action == "hash":
            step.md5 = resolve_hash(step) if resolve_hash else None
            have = existing[step.name].etag
            step.action, step.reason = ("keep", "same size and MD5") if step.md5 and have == step.md5 else \
                ("transfer", "MD5 differs" if step.md5 else "MD5 not known before reading")
    plan.stale, foreign = stale_segments(prefix, listing, steps)
    if kind == "dlo":
        refuse_foreign(swift, segment_container, prefix, name, foreign)
    if plan.stale and stale_policy == "fail":
        raise TransferError(f"{len(plan.stale)} segments under {segment_container}/{prefix} in region {swift.region} "
                            f"are not part of the new object (first: {plan.stale[0]}); stale_segments=fail",
                            stale=plan.stale[:20])
    plan.manifest_headers = dict(headers)
    if kind == "dlo":
        plan.manifest_headers["X-Object-Manifest"] = manifest_value(segment_container, prefix)
    current = None if container in plan.create else swift.head_object(container, name)
    if current is not None:
        held_kind = "slo" if is_slo(current) else "dlo" if current.get("x-object-manifest") else None
        plan.before = {"kind": held_kind, "manifest": current.get("x-object-manifest"),
                       "size": int(current.get("content-length", 0)), "etag": unquote_etag(current.get("etag"))}
        if held_kind is None:
            raise TransferError(f"{swift.where(container, name)} exists and is not a Dynamic or Static Large Object; "
                                "refusing to overwrite it", not_dlo=True)
    plan.manifest_action = "keep" if current is not None and same_manifest(swift, plan, current) else "write"
    return plan


def same_manifest(swift, plan: WritePlan, current: dict) -> bool:
    """Whether the manifest held already says what is wanted (kind, headers, segments)."""
    if is_slo(current) != (plan.kind == "slo") or not same_headers(current, plan.manifest_headers):
        return False
    if plan.kind == "slo" and any(step.md5 is None for step in plan.steps):
        return False
    return plan.kind == "dlo" or same_entries(swift.get_slo_manifest(plan.container, plan.name),
                                              manifest_entries(plan.segment_container, plan.steps))


def same_headers(current: dict, wanted: dict) -> bool:
    """Whether the manifest's headers already say what is wanted (X-Object-Manifest by its meaning)."""
    for key, value in wanted.items():
        have = current.get(key.lower())
        if key.lower() in WRITE_ONLY_HEADERS:
            continue
        if key.lower() == "x-object-manifest":
            if have is None or split_manifest(have) != split_manifest(value):
                return False
        elif have != str(value):
            return False
    return True


def apply_write(swift, plan: WritePlan, worker, concurrency: int, progress=None) -> None:
    """Carry the plan out: containers, segments (verified), manifest, read-back; stale segments
    before the segments for a DLO (it would serve them), after the manifest for an SLO."""
    for container in plan.create:
        swift.put_container(container)
    if plan.kind == "dlo":
        delete_stale(swift, plan)
    run_parallel(plan.to_transfer, worker, concurrency)
    if plan.manifest_action == "write":
        write_manifest(swift, plan)
    verify_written(swift, plan)
    if plan.kind == "slo":
        delete_stale(swift, plan)
    if progress:
        progress.finish("done")


def delete_stale(swift, plan: WritePlan) -> None:
    for name in plan.stale:
        swift.delete_object(plan.segment_container, name)


def write_manifest(swift, plan: WritePlan) -> None:
    if plan.kind == "slo":
        entries = manifest_entries(plan.segment_container, plan.steps)
        swift.put_slo_manifest(plan.container, plan.name, put_body(entries), plan.etag, plan.manifest_headers)
    else:
        swift.put_object(plan.container, plan.name, b"", length=0, headers=plan.manifest_headers,
                         what=f"write the manifest {swift.where(plan.container, plan.name)}")


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
        if size != plan.size or etag != plan.etag:
            problems.append(f"Swift reads it back as {size} bytes with ETag {etag}; expected {plan.size} bytes "
                            f"with ETag {plan.etag}")
    return problems


def slo_written_problems(plan: WritePlan, headers: dict | None, entries: list | None) -> list[str]:
    """How the SLO Swift holds differs from what the plan wrote (empty when identical)."""
    if headers is None or not is_slo(headers):
        return ["the SLO manifest is missing" if headers is None else "the object is not an SLO"]
    problems = []
    if not same_entries(entries or [], manifest_entries(plan.segment_container, plan.steps)):
        problems.append("the SLO manifest does not list exactly the segments written")
    size, etag = int(headers.get("content-length", -1)), unquote_etag(headers.get("etag"))
    if size != plan.size or etag != plan.etag:
        problems.append(f"Swift reads it back as {size} bytes with ETag {etag}; expected {plan.size} bytes "
                        f"with ETag {plan.etag}")
    return problems


def verify_written(swift, plan: WritePlan, attempts: int = 6) -> None:
    """Read the manifest back (and, for a DLO, the complete listing): exactly the segments written.

    A container listing may lag a moment behind the writes it reflects, so a mismatch is
    read again a few times before it counts.
    """
    limit = listing_limit(swift)
    for attempt in range(attempts):
        headers = swift.head_object(plan.container, plan.name)
        if plan.kind == "slo":
            entries = swift.get_slo_manifest(plan.container, plan.name) if headers and is_slo(headers) else None
            problems = slo_written_problems(plan, headers, entries)
        else:
            problems = written_problems(plan, headers, swift.list_objects(plan.segment_container, plan.prefix), limit)
        if not problems:
            return
        if attempt < attempts - 1:
            time.sleep(0.5 * (attempt + 1))
    raise TransferError(f"{swift.where(plan.container, plan.name)} does not read back as written: "
                        f"{'; '.join(problems)}. Another writer may be using the same segment prefix")
