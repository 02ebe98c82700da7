"""The query engine: filter languages -> one expression tree -> DuckDB SQL; sort, page (no Qt)."""
