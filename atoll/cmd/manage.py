"""atoll-manage: database migrations.

atoll-manage [--config-file F] db upgrade [REVISION]
atoll-manage [--config-file F] db downgrade REVISION
atoll-manage [--config-file F] db current
"""

from __future__ import annotations

import sys
from typing import Any

from oslo_config import cfg

from atoll.cmd.common import ensure_state_path, parse_config
from atoll.conf import CONF


def _add_parsers(subparsers: Any) -> None:
    db = subparsers.add_parser("db", help="Database schema migrations.")
    actions = db.add_subparsers(dest="action")
    actions.required = True
    upgrade = actions.add_parser("upgrade", help="Upgrade the schema (to head by default).")
    upgrade.add_argument("revision", nargs="?", default="head")
    downgrade = actions.add_parser("downgrade", help="Downgrade the schema to REVISION.")
    downgrade.add_argument("revision")
    actions.add_parser("current", help="Show the schema revision of the database.")


_command_opt = cfg.SubCommandOpt("command", title="Commands", handler=_add_parsers)


def main(argv: list[str] | None = None) -> int:
    if "command" not in CONF:
        CONF.register_cli_opt(_command_opt)
    conf = parse_config(argv)
    ensure_state_path(conf)
    from atoll.db import migration

    url = conf.database.connection
    action = conf.command.action
    if action == "upgrade":
        migration.upgrade(url, conf.command.revision)
    elif action == "downgrade":
        migration.downgrade(url, conf.command.revision)
    else:
        print(migration.current(url) or "(empty database)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
