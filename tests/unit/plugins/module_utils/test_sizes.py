"""Sizes as people write them (segment_size, max_size): bytes, or a number with a unit."""
from __future__ import annotations

import pytest
from ansible_collections.cloudimages.transfer.plugins.module_utils import _sizes
from ansible_collections.cloudimages.transfer.plugins.module_utils._errors import TransferError


@pytest.mark.parametrize("value,expected", [("1GiB", 1 << 30), ("128MiB", 128 << 20), ("4096", 4096),
                                            (1024, 1024), ("2g", 2 << 30)])
def test_sizes(value, expected):
    assert _sizes.parse_size(value) == expected


@pytest.mark.parametrize("value", ["-1", "1.5G", "lots", "10XB"])
def test_bad_sizes(value):
    with pytest.raises(TransferError, match="segment_size must be"):
        _sizes.parse_size(value)
