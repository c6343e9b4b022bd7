"""On a FIPS host OpenSSL refuses MD5 unless the caller says it is not for security: every MD5
the collection computes (Swift's ETags, Glance's checksum) is a checksum, and says so."""
from __future__ import annotations

import ast
import hashlib
from pathlib import Path

import pytest
from ansible_collections.cloudimages.transfer.plugins.module_utils import _dlo, _slo, _transfer

PLUGINS = Path(__file__).resolve().parents[4] / "plugins"


def md5_calls():
    for path in sorted(PLUGINS.rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr == "md5" \
                    and isinstance(node.func.value, ast.Name) and node.func.value.id == "hashlib":
                yield f"{path.relative_to(PLUGINS)}:{node.lineno}", node


def test_every_md5_says_it_is_not_for_security():
    calls = list(md5_calls())
    assert len(calls) >= 10
    assert [where for where, node in calls
            if not any(k.arg == "usedforsecurity" and getattr(k.value, "value", None) is False
                       for k in node.keywords)] == []


def test_the_checksums_work_where_md5_for_security_is_refused(monkeypatch, tmp_path):
    real = hashlib.md5

    def fips_md5(*args, usedforsecurity=True):
        if usedforsecurity:
            raise ValueError("[digital envelope routines] unsupported")
        return real(*args, usedforsecurity=False)
    monkeypatch.setattr(hashlib, "md5", fips_md5)
    path = tmp_path / "f"
    path.write_bytes(b"abc")
    with open(path, "rb") as f:
        assert _transfer.md5_of_file_range(f.fileno(), 0, 3) == real(b"abc").hexdigest()
    assert _dlo.etag_of_etags(["a"]) == real(b"a").hexdigest()
    assert _slo.slo_etag([{"hash": "a", "bytes": 1}]) == real(b"a").hexdigest()
    with pytest.raises(ValueError):
        hashlib.md5(b"x")
