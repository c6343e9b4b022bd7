# Copyright: cloudimages.transfer contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
#
# PRIVATE: this module_utils file is internal to cloudimages.transfer; it may change or go
# away in any release. Do not import it from outside this collection.
"""A job's options: a frozen dataclass filled once from the module's parameters, so that no
job reads Ansible option names deep inside module_utils."""

from __future__ import annotations

from dataclasses import fields


def from_params(cls, params: dict):
    """An instance of the options dataclass ``cls``: each field from the parameter of its name;
    a parameter that is absent or None leaves the field's default."""
    return cls(**{f.name: params[f.name] for f in fields(cls) if params.get(f.name) is not None})
