"""The query engine touches only the cache: its DuckDB connections read and write files only in
the cache's ``derived/`` and ``tmp/`` folders, install and load no extension, and no statement
can loosen that. Filters and table names that try to reach other files fail with a clear error
and read or write nothing outside the cache; every feature still works inside it."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

import desktopviz as dv
from desktopviz.errors import DesktopvizError
from desktopviz.query.spec import QuerySpec, SortKey
from tests.cli_support import dv as run_dv

SECRET = "secret-outside-the-cache"


@pytest.fixture(scope="module")
def world(tmp_path_factory):
    """A cache with two versions of a table (one with a JSON column), and a secret file and a
    folder outside it."""
    base = tmp_path_factory.mktemp("sandbox")
    cache_dir = base / "cache"
    outside = base / "outside"
    outside.mkdir()
    (outside / "secret.csv").write_text(f"a,b\n{SECRET},1\n")
    with dv.init(project="p", dir=cache_dir) as run:
        for v in range(2):
            t = dv.Table(
                columns=["id", "label", "score", "extra"],
                data=[
                    [i, ["a", "b"][i % 2], (i * (v + 1)) / 10, {"k": i} if i % 3 else {"j": 1}]
                    for i in range(40)
                ],
            )
            art = dv.Artifact("preds", "predictions")
            art.add(t, "preds")
            run.log_artifact(art)
    return cache_dir, outside


def outside_untouched(outside) -> None:
    assert sorted(p.name for p in outside.iterdir()) == ["secret.csv"]


ESCAPES = [
    ("read_csv", "SELECT * FROM read_csv(?)", ["{secret}"]),
    ("read_csv /etc/passwd", "SELECT * FROM read_csv('/etc/passwd', sep = ':')", []),
    ("read_text", "SELECT * FROM read_text('/etc/passwd')", []),
    ("read_parquet outside", "SELECT * FROM read_parquet(?)", ["{outside}/x.parquet"]),
    ("dotdot", "SELECT * FROM read_csv(?)", ["{cache}/derived/../../outside/secret.csv"]),
    ("glob", "SELECT * FROM glob('/*')", []),
    ("glob outside", "SELECT * FROM glob(?)", ["{outside}/*"]),
    ("attach", "ATTACH '{outside}/new.db' AS other", []),
    ("install", "INSTALL httpfs", []),
    ("load", "LOAD httpfs", []),
    ("copy to", "COPY (SELECT 42 AS x) TO '{outside}/x.csv'", []),
    ("copy to /tmp", "COPY (SELECT 42 AS x) TO '/tmp/desktopviz-sandbox-{pid}.csv'", []),
    ("copy from", "CREATE TABLE s AS SELECT 1 AS a; COPY s FROM '{secret}'", []),
    ("export database", "EXPORT DATABASE '{outside}/db'", []),
    ("set external access", "SET enable_external_access = true", []),
    ("set allowed dirs", "SET allowed_directories = ['/']", []),
    ("unlock", "SET lock_configuration = false", []),
    ("set temp dir", "SET temp_directory = '{outside}'", []),
    ("autoinstall", "SET autoinstall_known_extensions = true", []),
    ("http", "SELECT * FROM read_csv('https://example.com/x.csv')", []),
]


def fill(text: str, cache_dir, outside) -> str:
    return text.format(
        secret=outside / "secret.csv", outside=outside, cache=cache_dir, pid=os.getpid()
    )


@pytest.mark.parametrize(("sql", "params"), [e[1:] for e in ESCAPES], ids=[e[0] for e in ESCAPES])
def test_the_engine_connection_reaches_nothing_outside_the_cache(world, sql, params):
    cache_dir, outside = world
    with dv.open_cache(cache_dir) as c:
        engine = c._engine()
        statement = fill(sql, cache_dir, outside)
        values = [fill(p, cache_dir, outside) for p in params]
        with pytest.raises(DesktopvizError, match="^query failed: ") as e:
            engine.arrow(statement, values)
        assert "\n" not in str(e.value) and SECRET not in str(e.value)
        with pytest.raises(DesktopvizError, match="^query failed: "):
            list(engine.stream(statement, values, 100))  # its own cursor: the same rules
        # and the connection still works, as locked as before
        assert c.table("p/preds:v0").filter('row["score"] > 1').num_rows == 29
        with pytest.raises(DesktopvizError):
            engine.arrow("SELECT * FROM read_text('/etc/passwd')", [])
    outside_untouched(outside)
    assert not (outside.parent / f"desktopviz-sandbox-{os.getpid()}.csv").exists()


def test_settings_as_documented(world):
    cache_dir, _ = world
    with dv.open_cache(cache_dir) as c:
        row = (
            c._engine()
            .arrow(
                "SELECT current_setting('enable_external_access') AS ext, "
                "current_setting('autoinstall_known_extensions') AS inst, "
                "current_setting('autoload_known_extensions') AS load, "
                "current_setting('lock_configuration') AS locked, "
                "current_setting('allowed_directories') AS dirs",
                [],
            )
            .to_pylist()[0]
        )
    assert (row["ext"], row["inst"], row["load"], row["locked"]) == (False, False, False, True)
    root = str(cache_dir)
    assert {f"{root}/derived/", f"{root}/tmp/"} <= set(row["dirs"])
    assert all(d.startswith(f"{root}/") for d in row["dirs"])  # (DuckDB adds its temp folder)


FILTERS = [
    "read_csv('/etc/passwd')",
    'row["label"] == read_text("/etc/passwd")',
    "glob('/*')",
    "{$read_csv: '/etc/passwd'}",
    "{$eq: ['$label', {$read_text: '/etc/passwd'}]}",
    'row["label\\") FROM read_csv(\'/etc/passwd\') --"] > 0',
    "{$gt: ['$label\") FROM read_csv(\\'/etc/passwd\\') --', 0]}",
]


@pytest.mark.parametrize("text", FILTERS)
def test_filters_that_try_to_read_files_fail_clearly(world, text):
    cache_dir, outside = world
    with dv.open_cache(cache_dir) as c, pytest.raises(DesktopvizError) as e:
        _ = c.table("p/preds:v0").filter(text).num_rows
    message = str(e.value)
    assert "\n" not in message and "root:" not in message
    assert "unknown" in message or "position" in message
    r = run_dv("table", "p/preds:v0", "--filter", text, cache=cache_dir)
    assert r.returncode == 2 and r.stdout == ""
    assert len(r.stderr.strip().splitlines()) == 1 and "root:" not in r.stderr
    outside_untouched(outside)


@pytest.mark.parametrize(
    "key",
    [
        "') , read_text('/etc/passwd'), ('",
        "\"); SELECT * FROM read_csv('/etc/passwd'); --",
        "/../../etc/passwd",
    ],
)
def test_a_key_into_a_json_column_is_a_value_not_sql(world, key):
    """A key into a JSON value is bound as a parameter: matching no key, not reading a file."""
    cache_dir, _ = world
    with dv.open_cache(cache_dir) as c:
        q = c.table("p/preds:v0")
        assert q.filter(f'row["extra"][{json.dumps(key)}] == 1').num_rows == 0
        assert q.filter(f'row["extra"][{json.dumps(key)}] == None').num_rows == 40


@pytest.mark.parametrize(
    "name", ["read_csv('/etc/passwd')", "../../../../etc/passwd", "/etc/passwd"]
)
def test_table_names_that_try_to_read_files_fail_clearly(world, name):
    cache_dir, outside = world
    with dv.open_cache(cache_dir) as c, pytest.raises(DesktopvizError, match="no table"):
        _ = c.table("p/preds:v0", name).num_rows
    r = run_dv("table", "p/preds:v0", name, cache=cache_dir)
    assert r.returncode == 2 and "no table" in r.stderr and "root:" not in r.stderr
    outside_untouched(outside)


def test_every_feature_still_works_inside_the_cache(world, tmp_path):
    """Sorts and deep pages (a kept order), groups, charts, a comparison (fingerprints written by
    their own sandboxed connection), and an export to a file outside the cache."""
    cache_dir, _ = world
    with dv.open_cache(cache_dir) as c:
        q = c.table("p/preds:v0")
        assert q.sort("score", descending=True).rows(0, 2).column("id").to_pylist() == [39, 38]
        assert q.group_by("label").num_rows == 2
        diff = q.compare("p/preds:v1").diff()
        assert diff.changed == 39  # every score but 0 doubled
        assert (cache_dir / "derived" / "fingerprints").is_dir()
        from desktopviz.query.charts import distribution

        assert sum(distribution(q.result, "score", 10).counts[0]) == 40
        engine = c._engine()
        res = engine.result(c.version("p/preds:v0"), None, QuerySpec(sort=(SortKey("label"),)))
        res._materialize()  # a kept order: a temp table in DuckDB
        assert res.rows(20, 2).num_rows == 2
    out = tmp_path / "elsewhere" / "rows.csv"
    out.parent.mkdir()
    r = run_dv(
        "table",
        "p/preds:v0",
        "--filter",
        'row["id"] < 5',
        "--output",
        str(out),
        "--format",
        "csv",
        cache=cache_dir,
    )
    assert r.returncode == 0, r.stderr
    assert len(out.read_text().splitlines()) == 6


def test_spills_into_the_cache_tmp_folder(world, tmp_path):
    """With a small memory limit a large sort spills, and only into the cache's tmp/duckdb."""
    cache_dir, _ = world
    code = f"""
import desktopviz as dv
c = dv.open_cache({str(cache_dir)!r})
e = c._engine()
e.execute("CREATE TABLE __result_big AS SELECT range AS i, md5(range::VARCHAR) AS s FROM range(1500000) ORDER BY s", [])
files = e.arrow("SELECT path FROM duckdb_temporary_files()", []).column("path").to_pylist()
print(len(files), all(f.startswith({str(cache_dir / "tmp" / "duckdb")!r}) for f in files))
"""
    r = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        env={**os.environ, "DESKTOPVIZ_QUERY_MEMORY": "64MB"},
        timeout=120,
    )
    assert r.returncode == 0, r.stderr
    count, inside = r.stdout.split()
    assert int(count) > 0 and inside == "True"
