"""Users' roles and the rights each grants.

| right | read_only | analyst | data_entry | monitor | admin |
|---|:-:|:-:|:-:|:-:|:-:|
| read, log (de-identified), verify | ✓ | ✓ | ✓ | ✓ | ✓ |
| read_identified (``db show`` with identifiers) | | | ✓ | ✓ | ✓ |
| export (de-identified) | | ✓ | | | ✓ |
| import, edit, delete | | | ✓ | | ✓ |
| lock | | | | ✓ | ✓ |
| unlock, export_full, log_full, manage_users, migrate | | | | | ✓ |

Locking a record is a monitor's act (source data verified, the record frozen),
so the role that enters data cannot lock what it entered.
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType

__all__ = ["RIGHTS", "ROLES"]

_READ = frozenset({"read", "log", "verify"})

#: role -> the rights it grants. ``read`` reads records; ``read_identified``
#: shows a record's identifying fields (``kypho db show``); ``log`` reads the
#: audit trail de-identified, ``log_full`` with every identified value (admin,
#: with a reason, recorded); ``verify`` checks the trail;
#: ``import``/``edit``/``delete`` change records; ``lock`` locks a record,
#: ``unlock`` releases it; ``export`` writes a de-identified copy,
#: ``export_full`` an identified one; ``manage_users`` adds users and changes
#: roles; ``migrate`` changes the store's tables.
RIGHTS: Mapping[str, frozenset[str]] = MappingProxyType(
    {
        "read_only": _READ,
        "analyst": _READ | {"export"},
        "data_entry": _READ | {"read_identified", "import", "edit", "delete"},
        # verifies and locks (source-data verification, queries: kypho.store.workflow)
        "monitor": _READ | {"read_identified", "lock"},
        "admin": _READ
        | {
            "read_identified",
            "import",
            "edit",
            "delete",
            "lock",
            "unlock",
            "export",
            "export_full",
            "log_full",
            "manage_users",
            "migrate",
        },
    }
)

#: The roles, least to most privileged.
ROLES: tuple[str, ...] = ("read_only", "analyst", "data_entry", "monitor", "admin")
