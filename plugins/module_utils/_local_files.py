# Copyright: cloudimages.transfer contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
#
# PRIVATE: this module_utils file is internal to cloudimages.transfer; it may change or go
# away in any release. Do not import it from outside this collection.
"""Local files with predictable names in directories others may write to (/var/tmp).

A ``.part`` file or its ``.part.json`` beside a destination is opened without following a
symbolic link, and must be a regular file of this user, so that a link or a file planted
under that name is never written through. Errors on local files are the user's to fix
(permissions, space, a planted link) and are never retried as if the network had failed.
"""

from __future__ import annotations

import errno
import json
import os
import stat
import tempfile

from ansible_collections.cloudimages.transfer.plugins.module_utils._errors import TransferError

# errors of the local filesystem, not of a connection: retrying cannot help
LOCAL_ERRNOS = frozenset({errno.EACCES, errno.EPERM, errno.ENOSPC, errno.EROFS, errno.EEXIST, errno.ELOOP,
                          errno.EISDIR, errno.ENOTDIR, errno.EDQUOT, errno.EFBIG})


def local_error(exc: BaseException) -> bool:
    return isinstance(exc, OSError) and not isinstance(exc, ConnectionError) and exc.errno in LOCAL_ERRNOS


def open_own(path: str, flags: int, mode: int = 0o600) -> int:
    """os.open without following a symlink; the file must be a regular file of this user."""
    try:
        fd = os.open(path, flags | os.O_NOFOLLOW | getattr(os, "O_CLOEXEC", 0), mode)
    except OSError as exc:
        if exc.errno == errno.ELOOP:
            raise TransferError(f"{path} is a symbolic link; refusing to write through it (remove it, or choose "
                                "another dest)", local_file=path) from None
        raise TransferError(f"Cannot open {path}: {exc.strerror}", local_file=path) from None
    info = os.fstat(fd)
    if not stat.S_ISREG(info.st_mode) or info.st_uid != os.geteuid():
        os.close(fd)
        raise TransferError(f"{path} is not a regular file of this user; refusing to use it (remove it, or choose "
                            "another dest)", local_file=path)
    return fd


def read_json(path: str):
    """The JSON document in the file, or None when there is none (or it is not ours to read)."""
    try:
        fd = open_own(path, os.O_RDONLY)
    except TransferError:
        return None
    try:
        with os.fdopen(fd, encoding="utf-8") as f:
            return json.load(f)
    except (OSError, ValueError):
        return None


def write_json(path: str, doc: dict) -> None:
    fd = open_own(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC)
    with os.fdopen(fd, "w", encoding="utf-8") as f:
        json.dump(doc, f)


def write_atomically(path: str, text: str, mode: int = 0o600, durable: bool = False) -> None:
    """Replace path with text in one rename (a reader sees the old document or the new one,
    never half of one): written to a new file of this user in the same folder first, given
    ``mode`` before the rename; ``durable`` also waits until the data is on disk (a file meant
    to outlast a crash, not one rewritten every few seconds)."""
    fd, tmp = tempfile.mkstemp(prefix=f".{os.path.basename(path)}-", dir=os.path.dirname(os.path.abspath(path)))
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as out:
            out.write(text)
            if durable:
                out.flush()
                os.fsync(out.fileno())
        if mode != 0o600:  # mkstemp's own
            os.chmod(tmp, mode)
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise
