from __future__ import annotations

import errno
import os

import pytest
from ansible_collections.cloudimages.transfer.plugins.module_utils import _local_files
from ansible_collections.cloudimages.transfer.plugins.module_utils._errors import TransferError
from ansible_collections.cloudimages.transfer.plugins.module_utils._http import RetryPolicy
from ansible_collections.cloudimages.transfer.plugins.module_utils._transfer import retriable


def test_a_planted_symlink_is_never_written_through(tmp_path):
    victim = tmp_path / "victim"
    victim.write_text("precious")
    (tmp_path / ".disk.part.json").symlink_to(victim)
    with pytest.raises(TransferError, match="is a symbolic link; refusing to write through it"):
        _local_files.write_json(str(tmp_path / ".disk.part.json"), {"a": 1})
    assert victim.read_text() == "precious"
    assert _local_files.read_json(str(tmp_path / ".disk.part.json")) is None


@pytest.mark.skipif(os.geteuid() != 0, reason="needs root to give a file to another user")
def test_another_users_file_is_refused(tmp_path):
    theirs = tmp_path / ".disk.part"
    theirs.write_bytes(b"x")
    os.chown(theirs, 65534, 65534)
    with pytest.raises(TransferError, match="not a regular file of this user"):
        _local_files.open_own(str(theirs), os.O_RDWR)


def test_a_private_file_is_made_0600_and_read_back(tmp_path):
    path = str(tmp_path / "doc.json")
    _local_files.write_json(path, {"a": 1})
    assert os.stat(path).st_mode & 0o777 == 0o600 and _local_files.read_json(path) == {"a": 1}


@pytest.mark.parametrize("code", [errno.EACCES, errno.ENOSPC, errno.EEXIST, errno.ELOOP, errno.EROFS])
def test_local_file_errors_are_not_retried_as_network_failures(code):
    assert not retriable(OSError(code, os.strerror(code)), RetryPolicy())
    assert retriable(ConnectionResetError(errno.ECONNRESET, "reset"), RetryPolicy())
