# Copyright: cloudimages.transfer contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
#
# PRIVATE: this module_utils file is internal to cloudimages.transfer; it may change or go
# away in any release. Do not import it from outside this collection.
"""The collection's one exception type, and the scrubbing that keeps secrets out of messages."""

from __future__ import annotations

import re
import threading

MASK = "********"
# A header or field that carries a credential, whatever the value looks like.
_SECRET_FIELDS = re.compile(
    r"(?i)((?:x-auth-token|x-subject-token|x-storage-token|authorization|password|apikey|api_key|"
    r"secret|token)[\"']?\s*[:=]\s*[\"']?)([^\s\"',}]+)"
)
_known = set()
_lock = threading.Lock()


def register_secret(value) -> None:
    """Remember a credential (password, key, token) so that scrub() masks it anywhere."""
    if isinstance(value, str) and len(value) >= 4:
        with _lock:
            _known.add(value)


def scrub(text) -> str:
    """Text with every registered secret and every credential-looking field masked."""
    text = str(text)
    with _lock:
        known = sorted(_known, key=len, reverse=True)
    for value in known:
        text = text.replace(value, MASK)
    return _SECRET_FIELDS.sub(lambda m: m.group(1) + MASK, text)


class TransferError(Exception):
    """A failure with a message that names the verb and the object, safe to show a user.

    ``details`` holds structured, secret-free facts for the module result (for instance the
    failing segment). The message is scrubbed when the error is made.
    """

    def __init__(self, message: str, **details):
        super().__init__(scrub(message))
        self.details = details

    @property
    def msg(self) -> str:
        return str(self)
