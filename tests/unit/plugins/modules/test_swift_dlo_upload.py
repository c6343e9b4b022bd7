from __future__ import annotations

import json

import pytest
from ansible_collections.cloudimages.transfer.plugins.module_utils import _sizes
from ansible_collections.cloudimages.transfer.plugins.module_utils._errors import TransferError
from ansible_collections.cloudimages.transfer.plugins.modules import swift_dlo_upload

try:
    from ansible.module_utils.testing import patch_module_args
except ImportError:  # ansible-core before 2.19: the arguments a module reads at start, set directly
    import contextlib

    from ansible.module_utils import basic
    from ansible.module_utils.common.text.converters import to_bytes

    @contextlib.contextmanager
    def patch_module_args(args):
        saved = basic._ANSIBLE_ARGS
        basic._ANSIBLE_ARGS = to_bytes(json.dumps({"ANSIBLE_MODULE_ARGS": args}))
        try:
            yield
        finally:
            basic._ANSIBLE_ARGS = saved


def run_main(args, capsys):
    with patch_module_args(args):
        with pytest.raises(SystemExit):
            swift_dlo_upload.main()
    return json.loads(capsys.readouterr().out)


def test_bad_concurrency_fails_cleanly_without_touching_the_cloud(capsys, tmp_path):
    src = tmp_path / "f"
    src.write_bytes(b"x")
    result = run_main({"container": "c", "object": "o", "src": str(src), "concurrency": 0,
                       "auth": {"auth_url": "http://127.0.0.1:9/v3", "password": "hunter2-secret"}}, capsys)
    assert result["failed"] is True
    assert result["msg"] == "concurrency must be at least 1, got 0"
    assert "hunter2-secret" not in json.dumps(result)


def test_unreachable_identity_is_a_clear_message_with_no_secret(capsys, tmp_path):
    src = tmp_path / "f"
    src.write_bytes(b"x")
    result = run_main({"container": "c", "object": "o", "src": str(src), "retries": 0, "timeout": 2,
                       "auth": {"auth_url": "http://127.0.0.1:9/v3", "username": "operator",
                                "password": "hunter2-secret", "project_name": "images",
                                "user_domain_name": "Default", "project_domain_name": "Default"}}, capsys)
    assert result["failed"] is True
    # every value of the no_log auth option is masked by Ansible itself, the URL included
    assert result["msg"].startswith("Failed to authenticate at ******** (auth_type password): ")
    assert "Connection refused" in result["msg"]
    assert "hunter2-secret" not in json.dumps(result) and "Traceback" not in result["msg"]


@pytest.mark.parametrize("value,expected", [("1GiB", 1 << 30), ("128MiB", 128 << 20), ("4096", 4096),
                                            (1024, 1024), ("2g", 2 << 30)])
def test_sizes(value, expected):
    assert _sizes.parse_size(value) == expected


@pytest.mark.parametrize("value", ["-1", "1.5G", "lots", "10XB"])
def test_bad_sizes(value):
    with pytest.raises(TransferError, match="segment_size must be"):
        _sizes.parse_size(value)
