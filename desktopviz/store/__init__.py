"""The local cache: SQLite index, content-addressed blobs, Parquet tables, safe paths (no Qt)."""
