"""DuckDB connections that can reach only given folders: every connection that runs SQL over
the cache's files (the query engine, fingerprints, page reads, an import's joins) comes from here.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import duckdb


def sandboxed(
    folders: list[Path], settings: dict[str, Any], statements: tuple[str, ...] = ()
) -> duckdb.DuckDBPyConnection:
    """An in-memory DuckDB connection that reads and writes files only inside ``folders`` (and
    spills only there: ``temp_directory`` must be inside one), loads and installs no extension,
    and whose configuration is locked after ``settings`` and ``statements``: no later
    statement (``SET enable_external_access``, ``ATTACH``, ``INSTALL``, ``COPY ... TO``,
    ``read_csv('/etc/passwd')``) can reach another file."""
    con = duckdb.connect()
    try:
        for name, value in settings.items():
            con.execute(f"SET {name} = {_setting(value)}")
        folders_sql = ", ".join(_setting(str(f).rstrip("/") + "/") for f in folders)
        con.execute(f"SET allowed_directories = [{folders_sql}]")
        con.execute("SET enable_external_access = false")
        con.execute("SET autoinstall_known_extensions = false")
        con.execute("SET autoload_known_extensions = false")
        for statement in statements:
            con.execute(statement)
        con.execute("SET lock_configuration = true")
    except BaseException:
        con.close()
        raise
    return con


def _setting(value: Any) -> str:
    """A setting's value as SQL (only ever our own values and the cache's paths)."""
    if isinstance(value, bool):
        return "true" if value else "false"
    return "'" + str(value).replace("'", "''") + "'"
