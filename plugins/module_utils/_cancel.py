# Copyright: cloudimages.transfer contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
#
# PRIVATE: this module_utils file is internal to cloudimages.transfer; it may change or go
# away in any release. Do not import it from outside this collection.
"""Stopping a transfer that its user cancelled, within seconds.

Three signs that nobody waits for the result any more: SIGTERM or SIGINT (AWX's "Cancel"),
the process that started the module gone (a synchronous task whose ansible-playbook died),
and, for a module that Ansible runs in the background (``async``), a heartbeat file that the
playbook stopped touching. Any of them sets one event; the transfer engine starts no new
segment once it is set, and every body being sent or read raises at its next chunk, so
requests in flight are abandoned; one blocked on a silent server cannot be, so the process
ends by itself 10 s after the cancel if it has not reported and exited by then. Nothing is
written after the cancel (no manifest, no rename): a rerun resumes from what was verified.
"""

from __future__ import annotations

import os
import signal
import threading
import time

from ansible_collections.cloudimages.transfer.plugins.module_utils._errors import TransferError

CANCEL = threading.Event()
_REASON: list = []
_WATCHING: list = []
GRACE_SECONDS = 10.0


class Cancelled(TransferError):
    """The transfer was stopped on request; never retried."""


def cancel(reason: str) -> None:
    if not CANCEL.is_set():
        _REASON.append(reason)
        CANCEL.set()


def reason() -> str:
    return _REASON[0] if _REASON else "cancelled"


def check() -> None:
    """Raise Cancelled once the transfer was cancelled (called between chunks and segments)."""
    if CANCEL.is_set():
        raise Cancelled(f"Stopped: {reason()}; nothing more was written, and a rerun resumes from what was "
                        "verified", cancelled=True)


def watch(heartbeat_file: str | None = None, heartbeat_timeout: float | None = None, period: float = 1.0) -> None:
    """Start watching for the signs above (once per process)."""
    if _WATCHING:
        return
    _WATCHING.append(True)
    if threading.current_thread() is threading.main_thread():
        for signum in (signal.SIGTERM, signal.SIGINT):
            signal.signal(signum, lambda num, frame: cancel(f"received {signal.Signals(num).name}"))
    parent, started = os.getppid(), time.time()

    def watcher():
        while not CANCEL.wait(period):
            if os.getppid() != parent:
                cancel("the process that started this module ended")
            elif heartbeat_file and heartbeat_timeout:
                try:  # a file left by an earlier run counts from this module's start
                    age = time.time() - max(os.stat(heartbeat_file).st_mtime, started)
                except OSError:
                    age = time.time() - started
                if age > heartbeat_timeout:
                    cancel(f"the playbook stopped renewing its heartbeat {heartbeat_file} "
                           f"({age:.0f} s ago, limit {heartbeat_timeout:.0f} s)")

        # A request blocked on a silent server is not interrupted by the flag: after a grace
        # period in which the module can report and exit by itself, end the process.
        time.sleep(GRACE_SECONDS)
        os._exit(1)  # pylint: disable=protected-access

    threading.Thread(target=watcher, name="cancel-watcher", daemon=True).start()
