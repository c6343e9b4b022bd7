from __future__ import annotations

import os
import shutil
import struct
import subprocess
import time

import pytest
from ansible_collections.cloudimages.transfer.plugins.module_utils import _disk_convert, _image_inspect, _qemu_img
from ansible_collections.cloudimages.transfer.plugins.module_utils._errors import TransferError

pytestmark = [pytest.mark.skipif(shutil.which("qemu-img") is None, reason="needs qemu-img"),
              pytest.mark.skipif(_image_inspect.format_inspector is None, reason="needs oslo.utils")]


def qemu(*argv):
    done = subprocess.run(["qemu-img", *argv], capture_output=True, text=True, check=False)
    assert done.returncode == 0, done.stderr
    return done.stdout


def params(src, dest, fmt, src_format="raw", **more):
    """The options disk_image_convert unpacks from these parameters."""
    return _disk_convert.Options.from_params({"src": str(src), "dest": str(dest), "src_format": src_format,
                                              "dest_format": fmt, "force": False, "verify_content": False,
                                              "progress_file": None, **more})


def convert(src, dest, fmt, src_format="raw", check_mode=False, **more):
    return _disk_convert.run(params(src, dest, fmt, src_format, **more), check_mode)


def virtual_size(path, fmt):
    return _disk_convert.inspect("qemu-img", str(path), fmt, params(path, "x", "raw"), [])["virtual-size"]


@pytest.fixture
def raw(tmp_path):
    path = tmp_path / "disk.raw"
    path.write_bytes(os.urandom(1024 * 1024 + 512))
    return path


@pytest.fixture
def secret(tmp_path):
    """A file of the host that runs the module, which no image may carry out."""
    path = tmp_path / "clouds.yaml"
    path.write_bytes(b"clouds: {prod: {auth: {password: hunter2-the-secret}}}\n".ljust(1024 * 1024, b"#"))
    return path


def data_file_qcow2(tmp_path, names):
    """A qcow2 whose external data file is ``names`` (qemu-img create would zero the file it is
    given, so the image is made with a scratch file and then pointed elsewhere)."""
    scratch, image = tmp_path / "scratch.bin", tmp_path / "evil.qcow2"
    qemu("create", "-q", "-f", "qcow2", "-o", f"data_file={scratch},data_file_raw=on", str(image), "1M")
    qemu("amend", "-f", "qcow2", "-o", f"data_file={names}", str(image))
    scratch.unlink()
    return image


def test_a_vhd_keeps_the_exact_virtual_size_and_a_rerun_changes_nothing(raw, tmp_path):
    dest = tmp_path / "disk.vhd"
    first = convert(raw, dest, "vhd", verify_content=True)
    assert first["changed"] and first["src_format"] == "raw" and first["virtual_size"] == 1024 * 1024 + 512
    assert virtual_size(dest, "vhd") == 1024 * 1024 + 512 and oct(dest.stat().st_mode & 0o777) == "0o600"
    again = convert(raw, dest, "vpc")
    assert not again["changed"] and again["md5"] == first["md5"]
    assert sorted(p.name for p in tmp_path.iterdir()) == [".disk.vhd.convert.json", "disk.raw", "disk.vhd"]


def test_check_mode_writes_nothing(raw, tmp_path):
    result = convert(raw, tmp_path / "disk.qcow2", "qcow2", check_mode=True)
    assert result["changed"] and result["msg"].startswith("would convert")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["disk.raw"]


def test_a_file_the_record_does_not_explain_is_replaced_only_with_force(raw, tmp_path):
    dest = tmp_path / "disk.qcow2"
    dest.write_bytes(b"the user's own file")
    with pytest.raises(TransferError, match="exists and no record shows"):
        convert(raw, dest, "qcow2")
    assert dest.read_bytes() == b"the user's own file"
    assert convert(raw, dest, "qcow2", force=True)["changed"]
    assert virtual_size(dest, "qcow2") == 1024 * 1024 + 512


def test_an_input_whose_bytes_are_another_format_is_refused_before_qemu_img_opens_it(raw, tmp_path):
    qcow2 = tmp_path / "disk.qcow2"
    convert(raw, qcow2, "qcow2")
    vmdk = tmp_path / "disk.vmdk"
    convert(raw, vmdk, "vmdk")
    for src, said, bytes_are in ((raw, "vhd", "raw"), (qcow2, "raw", "qcow2"), (vmdk, "qcow2", "vmdk"),
                                 (qcow2, "vhd", "qcow2")):
        with pytest.raises(TransferError, match=f"is refused as a {said} image: its bytes are a {bytes_are} image, "
                                                f"not {said}; qemu-img was not run on it"):
            convert(src, tmp_path / "out.vhdx", "raw", src_format=said)
    assert not (tmp_path / "out.vhdx").exists()


def test_the_source_format_is_always_given_and_on_the_allow_list(raw, tmp_path):
    for fmt in (None, "auto", "vdi", "qed"):
        with pytest.raises(TransferError, match="src_format must be one of raw, qcow2, vhd, vhdx, vmdk"):
            convert(raw, tmp_path / "out.raw", "qcow2", src_format=fmt)
    with pytest.raises(TransferError, match="the format is not one qemu-img is let open here"):
        _image_inspect.inspect(str(raw), "vdi")


def test_a_damaged_image_is_refused_before_writing(raw, tmp_path):
    qcow2 = tmp_path / "disk.qcow2"
    convert(raw, qcow2, "qcow2")
    data = bytearray(qcow2.read_bytes())
    data[len(data) - 70000:len(data) - 69000] = os.urandom(1000)  # damage inside the image's metadata or data
    data[0x30:0x38] = (2 ** 62).to_bytes(8, "big")  # the refcount table offset: far past the end
    broken = tmp_path / "broken.qcow2"
    broken.write_bytes(bytes(data))
    with pytest.raises(TransferError, match="broken.qcow2 is (a damaged qcow2 image|not a readable qcow2 image)"):
        convert(broken, tmp_path / "out.vhd", "vhd", src_format="qcow2")
    assert not (tmp_path / "out.vhd").exists()


def test_leaked_clusters_alone_are_converted_with_a_warning(tmp_path):
    image = tmp_path / "leaky.qcow2"
    qemu("create", "-q", "-f", "qcow2", str(image), "4M")
    subprocess.run(["qemu-io", "-f", "qcow2", "-c", "write -P 7 0 1M", str(image)], check=True, capture_output=True)
    data = bytearray(image.read_bytes())
    cluster = 1 << struct.unpack(">I", data[20:24])[0]
    table = struct.unpack(">Q", data[48:56])[0]
    block = struct.unpack(">Q", data[table:table + 8])[0]
    leaked = len(data) // cluster
    data += bytes(cluster)  # a cluster the refcounts count and nothing uses: a leak
    data[block + 2 * leaked:block + 2 * leaked + 2] = struct.pack(">H", 1)
    image.write_bytes(bytes(data))
    assert subprocess.run(["qemu-img", "check", "-f", "qcow2", str(image)], capture_output=True, check=False).returncode == 3
    result = convert(image, tmp_path / "out.raw", "raw", src_format="qcow2")
    assert result["changed"] and result["warnings"] == [
        f"{image}: qemu-img check found 1 leaked clusters (space the image wastes, common in crash-consistent "
        "snapshots) and no corruption; converting it"]
    assert (tmp_path / "out.raw").read_bytes()[:1024 * 1024] == b"\x07" * 1024 * 1024


def test_an_image_with_a_backing_file_is_refused(raw, tmp_path):
    overlay = tmp_path / "overlay.qcow2"
    qemu("create", "-q", "-f", "qcow2", "-F", "raw", "-b", str(raw), str(overlay))
    with pytest.raises(TransferError, match=r"failed the inspector's safety checks \(backing_file: Image has a "
                                            r"backing file\)"):
        convert(overlay, tmp_path / "out.raw", "raw", src_format="qcow2")
    assert not (tmp_path / "out.raw").exists()


def test_a_qcow2_naming_a_data_file_of_this_host_is_refused_and_nothing_of_it_is_written(secret, tmp_path):
    """OSSA-2024-001: qemu-img convert would copy the named file into the output."""
    image = data_file_qcow2(tmp_path, secret)
    out = tmp_path / "out.vhd"
    with pytest.raises(TransferError, match=r"evil.qcow2 is refused as a qcow2 image: it failed the inspector's "
                                            r"safety checks \(data_file: Image has data_file set\)"):
        convert(image, out, "vhd", src_format="qcow2", verify_content=True)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["clouds.yaml", "evil.qcow2"]


def test_a_vmdk_whose_extents_are_other_files_is_refused(raw, tmp_path):
    flat = tmp_path / "flat.vmdk"
    qemu("create", "-q", "-f", "vmdk", "-o", "subformat=monolithicFlat", str(flat), "1M")
    with pytest.raises(TransferError, match=r"flat.vmdk is refused as a vmdk image: .*descriptor: Unsupported "
                                            "subformat"):
        convert(flat, tmp_path / "out.raw", "raw", src_format="vmdk")


def test_a_differencing_vhd_and_a_vhdx_with_a_parent_are_refused(raw, tmp_path):
    vhd = tmp_path / "disk.vhd"
    convert(raw, vhd, "vhd")
    data = bytearray(vhd.read_bytes())
    for at in (0, len(data) - 512):  # the footer and its copy at the start; qemu-img does not check its checksum
        data[at + 60:at + 64] = struct.pack(">I", 4)
    (tmp_path / "child.vhd").write_bytes(bytes(data))
    with pytest.raises(TransferError, match="child.vhd is refused as a vhd image: it is a differencing VHD"):
        convert(tmp_path / "child.vhd", tmp_path / "out.raw", "raw", src_format="vhd")
    vhdx = tmp_path / "disk.vhdx"
    qemu("convert", "-f", "raw", "-O", "vhdx", str(raw), str(vhdx))
    found = _image_inspect.format_inspector.get_inspector("vhdx").from_file(str(vhdx))
    assert _image_inspect.VHDX_PARENT_LOCATOR not in _image_inspect.vhdx_metadata_items(found)
    assert _image_inspect.inspect(str(vhdx), "vhdx").virtual_size == raw.stat().st_size
    data = bytearray(vhdx.read_bytes())
    guid = bytes.fromhex("2D5FD3A80BB34D45ABF7D3D84834AB0C")  # the parent locator's GUID as stored
    table = data.index(b"metadata", 64 * 1024)
    data[table + 32:table + 48] = guid  # the first metadata item becomes a parent locator
    (tmp_path / "child.vhdx").write_bytes(bytes(data))
    with pytest.raises(TransferError, match="child.vhdx is refused as a vhdx image: it has a parent locator"):
        convert(tmp_path / "child.vhdx", tmp_path / "out.raw", "raw", src_format="vhdx")


def test_a_fixed_vhd_reads_as_one(raw, tmp_path):
    fixed = tmp_path / "fixed.vhd"
    qemu("convert", "-f", "raw", "-O", "vpc", "-o", "subformat=fixed,force_size=on", str(raw), str(fixed))
    assert _image_inspect.inspect(str(fixed), "vhd").virtual_size == raw.stat().st_size
    assert convert(fixed, tmp_path / "out.raw", "raw", src_format="vhd")["virtual_size"] == raw.stat().st_size


def test_an_image_bomb_is_refused_by_its_declared_size_and_the_room_it_would_take(tmp_path, monkeypatch):
    bomb = tmp_path / "bomb.qcow2"
    qemu("create", "-q", "-f", "qcow2", str(bomb), "4T")
    assert bomb.stat().st_size < 1024 * 1024
    with pytest.raises(TransferError, match=r"bomb.qcow2 is refused as a qcow2 image: it declares a virtual size of "
                                            r"4398046511104 bytes \(4 TiB\), over the limit of 1099511627776 \(1 TiB\)"):
        convert(bomb, tmp_path / "out.raw", "raw", src_format="qcow2", max_virtual_size=1024 ** 4)
    # within the bound, a raw output still needs room for the whole disk, checked in check mode too
    monkeypatch.setattr(shutil, "disk_usage", lambda path: shutil._ntuple_diskusage(8 << 40, 8 << 40, 3 << 40))
    for check_mode in (True, False):
        with pytest.raises(TransferError, match=r"has 3 TiB free; the raw output of a disk of virtual size 4 TiB may "
                                                r"need 4 TiB. Nothing was written"):
            convert(bomb, tmp_path / "out.raw", "raw", src_format="qcow2", max_virtual_size=8 << 40,
                    check_mode=check_mode)
    assert not (tmp_path / "out.raw").exists()
    # a qcow2 output holds only the data
    result = convert(bomb, tmp_path / "out.qcow2", "qcow2", src_format="qcow2", max_virtual_size=8 << 40,
                     check_mode=True)
    assert result["changed"]


def test_a_dest_that_is_a_link_or_not_a_regular_file_is_refused(raw, tmp_path):
    target = tmp_path / "elsewhere"
    target.write_bytes(b"not ours")
    (tmp_path / "out.qcow2").symlink_to(target)
    with pytest.raises(TransferError, match="is not a regular file of this user; refusing to replace it"):
        convert(raw, tmp_path / "out.qcow2", "qcow2", force=True)
    assert target.read_bytes() == b"not ours"


def test_a_record_that_is_a_link_is_not_read(raw, tmp_path):
    dest = tmp_path / "out.qcow2"
    convert(raw, dest, "qcow2")
    record = tmp_path / ".out.qcow2.convert.json"
    (tmp_path / "planted.json").write_bytes(record.read_bytes())
    record.unlink()
    record.symlink_to(tmp_path / "planted.json")
    with pytest.raises(TransferError, match="exists and no record shows"):
        convert(raw, dest, "qcow2")


def test_qemu_img_past_its_timeout_is_killed_with_its_process_group(tmp_path):
    tool = tmp_path / "slow-qemu-img"
    pidfile = tmp_path / "child.pid"
    tool.write_text(f"#!/bin/sh\nsleep 60 &\necho $! > {pidfile}\nwait\n")
    tool.chmod(0o755)
    started = time.monotonic()
    with pytest.raises(TransferError, match="qemu-img convert did not finish within 1 s and was stopped"):
        _qemu_img.run(str(tool), ["convert", "-f", "raw", "-O", "raw", "a", "b"], timeout=1)
    assert time.monotonic() - started < 5
    child = int(pidfile.read_text())
    time.sleep(0.2)
    assert not os.path.exists(f"/proc/{child}") or open(f"/proc/{child}/stat").read().split()[2] == "Z"


def test_qemu_img_is_never_run_without_a_format():
    with pytest.raises(ValueError, match="without a format named"):
        _qemu_img.run("qemu-img", ["info", "disk"], timeout=1)


class ServedImages:
    """A Glance stand-in that serves image data from local files (the comparison's downloads)."""

    def __init__(self, files):
        self.files = files

    def where(self, image_id):
        return f"image {image_id}"

    def open_image_data(self, image_id):
        data = self.files[image_id]

        class Raw:
            @staticmethod
            def stream(size, decode_content=False):
                return (data[i:i + size] for i in range(0, len(data), size))

        class Response:
            raw = Raw()

            @staticmethod
            def close():
                pass
        return Response()


def test_the_content_check_inspects_both_downloads_and_writes_them_sparse(raw, secret, tmp_path, monkeypatch):
    from ansible_collections.cloudimages.transfer.plugins.module_utils import _disk_compare
    evil = data_file_qcow2(tmp_path, secret).read_bytes()
    disk = b"\0" * (4 << 20) + raw.read_bytes()
    glance = ServedImages({"evil": evil, "disk": disk, "same": disk})
    work = tmp_path / "work"
    work.mkdir()
    source = {"id": "evil", "disk_format": "qcow2", "size": len(evil)}
    target = {"id": "disk", "disk_format": "raw", "size": len(disk)}
    with pytest.raises(TransferError, match=r"^source is refused as a qcow2 image: .*data_file: Image has data_file set"):
        _disk_compare.compare(glance, source, glance, target, str(work))
    assert list(work.iterdir()) == []
    seen = []
    real_run = _qemu_img.run

    def run(tool, args, **limits):  # the downloads as qemu-img sees them
        seen.extend(os.stat(path).st_blocks * 512 for path in args[-2:])
        return real_run(tool, args, **limits)
    monkeypatch.setattr(_qemu_img, "run", run)
    _disk_compare.compare(glance, {"id": "same", "disk_format": "raw", "size": len(disk)}, glance, target, str(work))
    assert seen and all(allocated < len(disk) - (3 << 20) for allocated in seen)  # the 4 MiB of zeros not written
    monkeypatch.setattr(shutil, "disk_usage", lambda path: shutil._ntuple_diskusage(1 << 40, 1 << 40, 1 << 20))
    with pytest.raises(TransferError, match=r"downloads both images into .*, which has 1 MiB free; they take up to 10 MiB"):
        _disk_compare.compare(glance, target, glance, target, str(work))
