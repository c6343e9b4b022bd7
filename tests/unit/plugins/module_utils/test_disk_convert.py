from __future__ import annotations

import os
import shutil
import subprocess

import pytest
from ansible_collections.cloudimages.transfer.plugins.module_utils import _disk_convert
from ansible_collections.cloudimages.transfer.plugins.module_utils._errors import TransferError

pytestmark = pytest.mark.skipif(shutil.which("qemu-img") is None, reason="needs qemu-img")


def run_command(argv):
    done = subprocess.run(argv, capture_output=True, text=True, check=False)
    return done.returncode, done.stdout, done.stderr


def params(src, dest, fmt, **more):
    """The options disk_image_convert unpacks from these parameters."""
    return _disk_convert.Options.from_params({"src": str(src), "dest": str(dest), "src_format": "auto", "dest_format": fmt,
                                              "force": False, "verify_content": False, "progress_file": None, **more})


@pytest.fixture
def raw(tmp_path):
    path = tmp_path / "disk.raw"
    path.write_bytes(os.urandom(1024 * 1024 + 512))
    return path


def test_a_vhd_keeps_the_exact_virtual_size_and_a_rerun_changes_nothing(raw, tmp_path):
    dest = tmp_path / "disk.vhd"
    first = _disk_convert.run(params(raw, dest, "vhd", verify_content=True), run_command, False)
    assert first["changed"] and first["src_format"] == "raw" and first["virtual_size"] == 1024 * 1024 + 512
    info = _disk_convert.inspect("qemu-img", run_command, str(dest), "vhd")
    assert info["virtual-size"] == 1024 * 1024 + 512 and oct(dest.stat().st_mode & 0o777) == "0o600"
    again = _disk_convert.run(params(raw, dest, "vpc"), run_command, False)
    assert not again["changed"] and again["md5"] == first["md5"]
    assert sorted(p.name for p in tmp_path.iterdir()) == [".disk.vhd.convert.json", "disk.raw", "disk.vhd"]


def test_check_mode_writes_nothing(raw, tmp_path):
    result = _disk_convert.run(params(raw, tmp_path / "disk.qcow2", "qcow2"), run_command, True)
    assert result["changed"] and result["msg"].startswith("would convert")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["disk.raw"]


def test_a_file_the_record_does_not_explain_is_replaced_only_with_force(raw, tmp_path):
    dest = tmp_path / "disk.qcow2"
    dest.write_bytes(b"the user's own file")
    with pytest.raises(TransferError, match="exists and no record shows"):
        _disk_convert.run(params(raw, dest, "qcow2"), run_command, False)
    assert dest.read_bytes() == b"the user's own file"
    assert _disk_convert.run(params(raw, dest, "qcow2", force=True), run_command, False)["changed"]
    assert _disk_convert.inspect("qemu-img", run_command, str(dest), "qcow2")["virtual-size"] == 1024 * 1024 + 512


def test_an_input_that_is_not_what_it_says_or_damaged_is_refused_before_writing(raw, tmp_path):
    with pytest.raises(TransferError, match="is not a readable vhd image: Could not open .*invalid VPC image"):
        _disk_convert.run(params(raw, tmp_path / "out.qcow2", "qcow2", src_format="vhd"), run_command, False)
    qcow2 = tmp_path / "disk.qcow2"
    _disk_convert.run(params(raw, qcow2, "qcow2"), run_command, False)
    data = bytearray(qcow2.read_bytes())
    data[len(data) - 70000:len(data) - 69000] = os.urandom(1000)  # damage inside the image's metadata or data
    data[0x30:0x38] = (2 ** 62).to_bytes(8, "big")  # the refcount table offset: far past the end
    broken = tmp_path / "broken.qcow2"
    broken.write_bytes(bytes(data))
    with pytest.raises(TransferError, match="broken.qcow2 is (a damaged qcow2 image|not a readable qcow2 image)"):
        _disk_convert.run(params(broken, tmp_path / "out.vhd", "vhd", src_format="qcow2"), run_command, False)
    assert not (tmp_path / "out.vhd").exists() and not (tmp_path / "out.qcow2").exists()


def test_an_image_with_a_backing_file_is_refused(raw, tmp_path):
    overlay = tmp_path / "overlay.qcow2"
    done = run_command(["qemu-img", "create", "-f", "qcow2", "-F", "raw", "-b", str(raw), str(overlay)])
    assert done[0] == 0, done[2]
    with pytest.raises(TransferError, match="refers to a backing file"):
        _disk_convert.run(params(overlay, tmp_path / "out.raw", "raw", src_format="qcow2"), run_command, False)
    assert not (tmp_path / "out.raw").exists()
