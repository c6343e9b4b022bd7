"""The transfer report's file: written whole or not at all, and left alone when unchanged."""
from __future__ import annotations

import json

import pytest

from ansible_collections.cloudimages.transfer.plugins.action.transfer_report import render, write_report
from ansible_collections.cloudimages.transfer.plugins.module_utils import _local_files


def test_the_report_is_written_with_its_mode_and_no_temporary_file_is_left(tmp_path):
    path = tmp_path / "report.json"
    report = {"images": [{"image": "wörker 1", "result": "transferred"}], "check_mode": False}
    assert write_report(str(path), render(report), 0o640) is True
    assert json.loads(path.read_text(encoding="utf-8")) == report
    assert path.stat().st_mode & 0o777 == 0o640
    assert sorted(p.name for p in tmp_path.iterdir()) == ["report.json"]


def test_the_same_report_again_writes_nothing(tmp_path):
    path = tmp_path / "report.json"
    text = render({"images": []})
    write_report(str(path), text, 0o644)
    before = path.stat().st_ino
    assert write_report(str(path), text, 0o644) is False
    assert path.stat().st_ino == before
    assert write_report(str(path), render({"images": [1]}), 0o644) is True
    assert path.stat().st_ino != before  # replaced by rename, not rewritten in place


def test_a_failed_write_leaves_the_old_report_and_no_temporary_file(tmp_path, monkeypatch):
    path = tmp_path / "report.json"
    write_report(str(path), render({"images": ["old"]}), 0o644)

    def broken(*_args):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(_local_files.os, "fsync", broken)
    with pytest.raises(OSError):
        write_report(str(path), render({"images": ["new"]}), 0o644)
    assert json.loads(path.read_text()) == {"images": ["old"]}
    assert sorted(p.name for p in tmp_path.iterdir()) == ["report.json"]


def test_render_sorts_keys_and_keeps_names_readable():
    assert render({"b": 1, "a": "ä"}) == '{\n    "a": "ä",\n    "b": 1\n}\n'
