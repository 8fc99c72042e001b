"""Users' roles and the rights each grants."""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType

__all__ = ["RIGHTS", "ROLES"]

_READ = frozenset({"read", "log", "verify"})

#: role -> the rights it grants. ``read`` reads records; ``log`` reads the audit
#: trail; ``verify`` checks it; ``import``/``edit``/``delete`` change records;
#: ``lock`` locks a record, ``unlock`` releases it; ``export`` writes a
#: de-identified copy, ``export_full`` an identified one; ``manage_users`` adds
#: users and changes roles; ``migrate`` changes the store's tables.
RIGHTS: Mapping[str, frozenset[str]] = MappingProxyType(
    {
        "read_only": _READ,
        "analyst": _READ | {"export"},
        "data_entry": _READ | {"import", "edit", "delete", "lock"},
        # verifies and locks (source-data verification, queries: kypho.store.workflow)
        "monitor": _READ | {"lock"},
        "admin": _READ
        | {
            "import",
            "edit",
            "delete",
            "lock",
            "unlock",
            "export",
            "export_full",
            "manage_users",
            "migrate",
        },
    }
)

#: The roles, least to most privileged.
ROLES: tuple[str, ...] = ("read_only", "analyst", "data_entry", "monitor", "admin")
