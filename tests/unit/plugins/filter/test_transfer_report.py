"""The report's arithmetic (phase_seconds) and its table."""
from __future__ import annotations

import pytest
from ansible.errors import AnsibleFilterError
from ansible_collections.cloudimages.transfer.plugins.filter.transfer_report import (
    phase_seconds,
    transfer_report_rows,
    transfer_report_table,
)


def test_seconds_per_phase_in_procedure_order_with_verify_split_from_import():
    marks = [["start", 100], ["preflight", 102.5], ["export", 110], ["copy", 130], ["import", 150], ["finish", 151.25]]
    assert phase_seconds(marks, 4) == {"preflight": 2.5, "export": 7.5, "copy": 20.0, "import": 16.0, "verify": 4.0,
                                       "finish": 1.2}


def test_a_failed_run_ends_with_its_failure_mark():
    assert phase_seconds([["start", 10], ["preflight", 11], ["failed", 15]]) == {"preflight": 1.0, "failed": 4.0}


def test_verify_never_more_than_the_import():
    assert phase_seconds([["start", 0], ["import", 2]], 5) == {"import": 0.0, "verify": 2.0}


def test_bad_marks_say_what_is_wanted():
    with pytest.raises(AnsibleFilterError, match="phase_seconds takes"):
        phase_seconds([["start"]])


def test_table_one_line_per_image_aligned():
    rows = [{"source_image_id": "a1", "source_name": "web01", "target_image_id": "b2", "bytes": 8388608,
             "phases": {"preflight": 1.0, "copy": 2.5}, "verification": {"active": True, "checksum": "skipped"},
             "result": "transferred"},
            {"image": "missing", "phases": {}, "result": "failed", "error": "Exactly one source image: 0 images"}]
    lines = transfer_report_table(rows)
    assert len(lines) == 3
    assert lines[0].split() == ["source", "image", "name", "target", "image", "MiB", "preflight", "export", "copy",
                                "import", "verify", "finish", "total", "s", "verified", "result"]
    assert lines[1].split() == ["a1", "web01", "b2", "8.0", "1.0", "-", "2.5", "-", "-", "-", "3.5", "active",
                                "transferred"]
    assert lines[2].endswith("failed: Exactly one source image: 0 images")
    column = lines[0].index("target image")  # columns line up
    assert lines[1][column:column + 3] == "b2 " and lines[2][column:column + 2] == "- "


def test_rows_say_what_happened_to_each_image():
    marks = [["start", 0], ["preflight", 1]]
    done = {"region_transfer_image": "web01", "transfer_worker": "w1", "_region_transfer_marks": marks,
            "_region_transfer_source": {"id": "a1", "name": "web01", "size": 10},
            "region_transfer_result": {"target_image_id": "b2", "moved_data": True, "phases": {"copy": 1.0},
                                       "verification": {"active": True}, "conversion": "none"}}
    there = {**done, "region_transfer_result": {**done["region_transfer_result"], "moved_data": False}}
    failed = {"region_transfer_image": "x", "_region_transfer_marks": marks + [["failed", 3]],
              "_transfer_image_error": "Find the source image: 0 images match x\n"}
    lost = {"region_transfer_image": "y", "_region_transfer_marks": marks}
    skipped = {"region_transfer_image": "z"}
    rows = transfer_report_rows([done, there, failed, lost, skipped])
    assert [r["result"] for r in rows] == ["transferred", "already there", "failed", "failed: did not finish",
                                           "not started: an earlier image failed"]
    assert (rows[0]["worker"], rows[0]["source_image_id"], rows[0]["target_image_id"], rows[0]["bytes"]) == \
        ("w1", "a1", "b2", 10)
    assert rows[2]["phases"] == {"preflight": 1.0, "failed": 2.0} and rows[2]["error"] == "Find the source image: 0 images match x"
    assert rows[2]["worker"] == "this machine" and rows[4]["phases"] == {}
    assert transfer_report_rows([lost], check_mode=True)[0]["result"] == "check mode: would transfer"
