# Copyright: cloudimages.transfer contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
#
# PRIVATE: this module_utils file is internal to cloudimages.transfer; it may change or go
# away in any release. Do not import it from outside this collection.
"""The Swift TempURL that a web-download import gives Glance, and the account key it needs.

TempURL keys are account metadata (the vendors document ``Temp-URL-Key`` and ``-Key-2``;
radosgw has no container keys), shared by everything the account signs. So the collection
never changes a key it did not set: an existing key (either slot) is used as it is. Only an
account with no key at all gets one, in the second slot, with a marker holding the key's
fingerprint, and the key is read back a moment after it is set, so that two transfers racing
to set it both use the one that stayed. Swift account metadata has no conditional write, so a
transfer that sets its key after that moment can still replace it; the import that then fails
(Glance is refused the URL) is signed with the key that stayed and started once more.

While an import needs the URL, it holds a lease (account metadata with an expiry); the key
this collection set is removed when the last lease is let go, and only while the marker still
names it (a user who replaced it keeps theirs). A run killed before it lets go leaves a lease
that expires by itself with the import's deadline; every run sweeps the expired leases it
finds, when it takes its lease and when it lets go (Swift caps an account's metadata at 90
keys and 4 KiB, after which every write of it fails), and the next run that finds no live
lease removes the key of ours that a killed run left.

URLs are valid only as long as Glance can take to start reading (15 min, plus a minute per
GiB): Swift checks the signature when a GET starts, not while it runs.
"""

from __future__ import annotations

import hashlib
import secrets
import time

from ansible_collections.cloudimages.transfer.plugins.module_utils._errors import register_secret

KEY = "x-account-meta-temp-url-key"
KEY_2 = "x-account-meta-temp-url-key-2"
MARKER = "x-account-meta-cloudimages-temp-url-key-2"
LEASE = "x-account-meta-cloudimages-tempurl-lease-"
SETTLE = 1.0  # seconds between setting a key and reading back which one stayed

try:
    from swiftclient.utils import generate_temp_url
except ImportError:
    generate_temp_url = None


def fingerprint(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()[:16]


def url_seconds(size: int) -> int:
    return 900 + 60 * (size // 1024 ** 3)


def live_leases(headers: dict, now: float) -> list:
    found = []
    for name, value in headers.items():
        if name.startswith(LEASE):
            try:
                if float(value) > now:
                    found.append(name)
            except ValueError:
                continue
    return found


def expired_removals(headers: dict) -> dict:
    """The account-metadata headers that remove every lease (of any run) that has expired."""
    live = live_leases(headers, time.time())
    return {f"X-Remove-Account-Meta-{n[len('x-account-meta-'):]}": "x"
            for n in headers if n.startswith(LEASE) and n not in live}


class Lease:
    """``with Lease(swift, seconds) as lease: url = lease.sign(container, name, size)``."""

    def __init__(self, swift, seconds: float):
        self.swift, self.seconds = swift, seconds
        self.header = f"X-Account-Meta-Cloudimages-Tempurl-Lease-{secrets.token_hex(6)}"
        self.key = None
        self.created = False

    def __enter__(self):
        self.expires = int(time.time() + self.seconds)
        self.swift.post_account({self.header: str(self.expires), **expired_removals(self.swift.head_account())})
        self.key = self._key()
        register_secret(self.key)
        return self

    def _key(self) -> str:
        held = self.swift.head_account()
        if held.get(KEY) or held.get(KEY_2):
            return held.get(KEY) or held.get(KEY_2)
        new = secrets.token_hex(32)
        register_secret(new)
        self.swift.post_account({"X-Account-Meta-Temp-URL-Key-2": new,
                                 "X-Account-Meta-Cloudimages-Temp-Url-Key-2": fingerprint(new)})
        time.sleep(SETTLE)  # a transfer racing this one may have set its own: use what stayed
        held = self.swift.head_account()
        self.created = held.get(KEY_2) == new
        return held.get(KEY) or held.get(KEY_2) or new

    def refresh(self) -> bool:
        """Take the account's key anew; whether it differs from the one the URLs were signed with."""
        held = self.swift.head_account()
        key = held.get(KEY) or held.get(KEY_2)
        if not key or key == self.key:
            return False
        register_secret(key)
        self.key = key
        return True

    def sign(self, container: str, name: str, size: int) -> str:
        decoded, url = self.swift.object_paths(container, name)  # Swift checks the decoded path
        self.url_expires = time.time() + url_seconds(size)
        signed = generate_temp_url(decoded, url_seconds(size), self.key, "GET")
        full = f"{url}?{signed.split('?', 1)[1]}"
        register_secret(full.rsplit("temp_url_sig=", maxsplit=1)[-1])
        return full

    def url_expired(self) -> bool:
        """Whether the last URL signed has expired (Glance started reading it too late)."""
        return time.time() >= getattr(self, "url_expires", float("inf"))

    def __exit__(self, *exc) -> None:
        self.swift.post_account({self.header.replace("X-Account-Meta-", "X-Remove-Account-Meta-"): "x"})
        held = self.swift.head_account()
        remove = expired_removals(held)
        if not live_leases(held, time.time()) and held.get(KEY_2) and held.get(MARKER) == fingerprint(held[KEY_2]):
            remove.update({"X-Remove-Account-Meta-Temp-URL-Key-2": "x",
                           "X-Remove-Account-Meta-Cloudimages-Temp-Url-Key-2": "x"})
        if remove:
            self.swift.post_account(remove)
