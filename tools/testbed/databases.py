"""The test bed's databases on the machine's MariaDB, and cached dumps of freshly migrated ones.

Statements go through the ``mariadb``/``mysql`` client when there is one,
else through PyMySQL in the Keystone venv (this code is stdlib only).
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
from collections.abc import Callable

from testbed import venvs
from testbed.layout import Layout
from testbed.util import TestbedError, say

LAYOUT_SNAPSHOT = 2  # bump when what goes into a DB snapshot changes

# Run by the Keystone venv's python when there is no client binary.
_PYMYSQL = (
    "import sys,json,pymysql\n"
    "a=json.loads(sys.argv[1])\n"
    "c=pymysql.connect(host=a[0],port=a[1],user=a[2],password=a[3],"
    "autocommit=True)\n"
    "cur=c.cursor()\n"
    "for s in a[4]:\n"
    "    cur.execute(s)\n"
    "    for row in cur.fetchall() or ():\n"
    "        print('\\t'.join(map(str,row)))\n"
)


def _client_env(layout: Layout) -> dict[str, str]:
    env = dict(os.environ)
    if layout.db_password:
        env["MYSQL_PWD"] = layout.db_password
    return env


def _connection_args(layout: Layout) -> list[str]:
    return ["-h", layout.db_host, "-P", str(layout.db_port), "-u", layout.db_user]


def sql(layout: Layout, statements: list[str]) -> str:
    """Run ``statements``; their rows as tab-separated lines."""
    mysql = shutil.which("mariadb") or shutil.which("mysql")
    if mysql:
        res = subprocess.run(
            [mysql, *_connection_args(layout), "-N", "-B"],
            input="\n".join(s.rstrip(";") + ";" for s in statements),
            capture_output=True,
            text=True,
            env=_client_env(layout),
            check=False,
        )
    else:
        res = subprocess.run(
            [
                str(venvs.venv_path("keystone") / "bin" / "python"),
                "-c",
                _PYMYSQL,
                json.dumps([layout.db_host, layout.db_port, layout.db_user, layout.db_password, statements]),
            ],
            capture_output=True,
            text=True,
            check=False,
        )
    if res.returncode:
        raise TestbedError(f"SQL failed: {res.stderr.strip()}")
    return res.stdout


def schemas_present(layout: Layout, names: list[str]) -> bool:
    """True if every database in ``names`` has tables (a marker file
    alone is not proof: someone may have dropped the databases)."""
    quoted = ", ".join(f"'{n}'" for n in names)
    # The names are the test bed's own database names, never input.
    query = f"SELECT COUNT(DISTINCT table_schema) FROM information_schema.tables WHERE table_schema IN ({quoted})"  # noqa: S608
    return sql(layout, [query]).strip() == str(len(names))


def create(layout: Layout, names: list[str]) -> None:
    sql(layout, [f"CREATE DATABASE IF NOT EXISTS `{n}` CHARACTER SET utf8" for n in names])


def drop(layout: Layout, names: list[str]) -> None:
    sql(layout, [f"DROP DATABASE IF EXISTS `{n}`" for n in names])


def migrate_or_restore(
    layout: Layout, label: str, dbs: list[str], venv_names: list[str], extra: list[str], migrate: Callable[[], None]
) -> None:
    """Run ``migrate`` (which fills ``dbs``) or restore its cached dump.

    Schema migrations dominate a warm ``up``; their result only depends
    on the service versions (the venvs) and on names/URLs written into
    the rows, so a dump of freshly migrated databases is cached next to
    the venvs and restored instead.  ``ATOLL_TESTBED_NO_DB_CACHE=1``
    always migrates.
    """
    dump = shutil.which("mariadb-dump") or shutil.which("mysqldump")
    client = shutil.which("mariadb") or shutil.which("mysql")
    blob = json.dumps(
        [
            LAYOUT_SNAPSHOT,
            label,
            dbs,
            extra,
            [venvs.venv_key(v) for v in venv_names],
            layout.db_url,
            layout.rabbit_url,
        ]
    )
    key = hashlib.sha256(blob.encode()).hexdigest()[:20]
    snap = venvs.cache_dir() / "db-snapshots" / f"{label}-{key}.sql"
    use_cache = dump and client and os.environ.get("ATOLL_TESTBED_NO_DB_CACHE", "") in ("", "0")
    env = _client_env(layout)
    conn = _connection_args(layout)
    if use_cache and client and snap.exists():
        with open(snap, "rb") as fh:
            res = subprocess.run([client, *conn], stdin=fh, capture_output=True, env=env, check=False)
        if res.returncode == 0:
            return
        say(
            f"warning: restoring {snap.name} failed "
            f"({res.stderr.decode(errors='replace').strip()[:200]}); "
            "migrating instead"
        )
        drop(layout, dbs)
        create(layout, dbs)
    migrate()
    if use_cache and dump:
        snap.parent.mkdir(parents=True, exist_ok=True)
        tmp = snap.with_name(f".{snap.name}.{os.getpid()}.tmp")
        with open(tmp, "wb") as fh:
            options = ["--single-transaction", "--skip-lock-tables", "--routines", "--triggers", "--skip-dump-date"]
            res = subprocess.run(
                [dump, *conn, *options, "--databases", *dbs], stdout=fh, stderr=subprocess.PIPE, env=env, check=False
            )
        if res.returncode == 0:
            os.replace(tmp, snap)
        else:
            tmp.unlink(missing_ok=True)
