from __future__ import annotations

import json

from ansible_collections.cloudimages.transfer.plugins.modules import swift_dlo_upload


def test_bad_concurrency_fails_cleanly_without_touching_the_cloud(run_main, tmp_path):
    src = tmp_path / "f"
    src.write_bytes(b"x")
    result = run_main(swift_dlo_upload, {"container": "c", "object": "o", "src": str(src), "concurrency": 0,
                                         "auth": {"auth_url": "http://127.0.0.1:9/v3", "password": "hunter2-secret"}})
    assert result["failed"] is True
    assert result["msg"] == "concurrency must be at least 1, got 0"
    assert "hunter2-secret" not in json.dumps(result)


def test_unreachable_identity_is_a_clear_message_with_no_secret(run_main, tmp_path):
    src = tmp_path / "f"
    src.write_bytes(b"x")
    auth = {"auth_url": "http://127.0.0.1:9/v3", "username": "operator", "password": "hunter2-secret",
            "project_name": "images", "user_domain_name": "Default", "project_domain_name": "Default"}
    result = run_main(swift_dlo_upload, {"container": "c", "object": "o", "src": str(src), "retries": 0, "timeout": 2,
                                         "auth": auth})
    assert result["failed"] is True
    # every value of the no_log auth option is masked by Ansible itself, the URL included
    assert result["msg"].startswith("Failed to authenticate at ******** (auth_type password): ")
    assert "Connection refused" in result["msg"]
    assert "hunter2-secret" not in json.dumps(result) and "Traceback" not in result["msg"]
