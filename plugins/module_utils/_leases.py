# Copyright: cloudimages.transfer contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
#
# PRIVATE: this module_utils file is internal to cloudimages.transfer; it may change or go
# away in any release. Do not import it from outside this collection.
"""Leases on a shared intermediate object, so that one run does not delete what another reads.

Two runs of one image (two AWX jobs, one image sent to two regions by two runs) share the
source's export. Each run that reads it takes a lease when the export is there, and the
cleanup deletes it only when no other run's lease is live. A lease is one key of the
container's metadata (``X-Container-Meta-Cloudimages-Lease-<object digest>-<holder>``, its
value the Unix time it expires): a container POST sets or removes only the keys it names, so
two runs never overwrite each other's lease, as they would on the object itself, whose POST
replaces all of its metadata. A run killed before it lets go leaves a lease that expires by
itself (the caller gives the run's longest possible life); every take and release sweeps the
expired leases of any object, since Swift caps a container's metadata (90 keys, 4 KiB).
"""

from __future__ import annotations

import hashlib
import re
import time

from ansible_collections.cloudimages.transfer.plugins.module_utils._errors import TransferError

PREFIX = "x-container-meta-cloudimages-lease-"
HOLDER = re.compile(r"^[a-z0-9]{1,24}$")


def check_holder(holder: str) -> None:
    if not HOLDER.match(holder or ""):
        raise TransferError(f"lease_holder must be 1 to 24 lower-case letters and digits, got {holder!r}")


def key(name: str, holder: str) -> str:
    """The metadata key (lower case, as Swift lists it) of ``holder``'s lease on object ``name``."""
    return f"{PREFIX}{hashlib.sha256(name.encode()).hexdigest()[:12]}-{holder}"


def live(headers: dict, now: float) -> dict:
    """Every live lease in the container's headers: key -> expiry."""
    found = {}
    for name, value in headers.items():
        if name.startswith(PREFIX):
            try:
                expires = float(value)
            except ValueError:
                continue
            if expires > now:
                found[name] = expires
    return found


def removal(name: str) -> str:
    return "X-Remove-Container-Meta-" + name[len("x-container-meta-"):]


def sweep(headers: dict, now: float) -> dict:
    """Headers that remove every expired (or unreadable) lease."""
    alive = live(headers, now)
    return {removal(name): "x" for name in headers if name.startswith(PREFIX) and name not in alive}


def take(swift, container: str, name: str, holder: str, seconds: int) -> dict:
    """Hold a lease on ``container/name`` for ``seconds``; returns what the result reports."""
    check_holder(holder)
    now = time.time()
    held = swift.head_container(container) or {}
    swift.post_container(container, {key(name, holder): str(int(now + seconds)), **sweep(held, now)})
    return {"holder": holder, "expires": int(now + seconds)}


def others(headers: dict, name: str, holder: str) -> list:
    """The holders, other than ``holder``, of live leases on object ``name``."""
    check_holder(holder)
    prefix, mine = key(name, ""), key(name, holder)
    return sorted(k[len(prefix):] for k in live(headers, time.time()) if k.startswith(prefix) and k != mine)


def release(swift, container: str, name: str, holder: str) -> list:
    """Let go of ``holder``'s lease; the holders of the other live leases on the object."""
    held = swift.head_container(container)
    if held is None:
        return []
    still = others(held, name, holder)
    swift.post_container(container, {removal(key(name, holder)): "x", **sweep(held, time.time())})
    return still
