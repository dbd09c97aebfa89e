"""DuckDB connections for reading archives back, with httpfs loaded from the ``duckdb-extension-httpfs`` package.

Nothing may be downloaded at run time, so extension auto-install/auto-load are
off and httpfs is loaded from the file that package ships.
"""

from __future__ import annotations

from pathlib import Path

import duckdb
import duckdb_extension_httpfs

from tests.servers.moto_server import FAKE_KEY_ID, FAKE_SECRET, REGION


def httpfs_path() -> Path:
    base = Path(duckdb_extension_httpfs.__file__).parent / "extensions"
    return base / f"v{duckdb.__version__}" / "httpfs.duckdb_extension"


def connect(s3_host_port: str | None = None) -> duckdb.DuckDBPyConnection:
    """An in-memory DuckDB; with ``s3_host_port``, httpfs is loaded and pointed at that S3 endpoint."""
    con = duckdb.connect(config={"autoinstall_known_extensions": False, "autoload_known_extensions": False})
    if s3_host_port is not None:
        con.execute(f"LOAD '{httpfs_path()}'")
        con.execute(
            "CREATE SECRET moto (TYPE s3, KEY_ID ?, SECRET ?, REGION ?, ENDPOINT ?, URL_STYLE 'path', USE_SSL false)",
            [FAKE_KEY_ID, FAKE_SECRET, REGION, s3_host_port],
        )
    return con
