#!/usr/bin/env python3
"""The DuckDB side of bench/diagnose.sh: one thread, only a GROUP BY of the
failures on the same file. Prints seconds and the number of groups."""
import sys, time
import duckdb

path = sys.argv[1]
con = duckdb.connect()
con.execute("SET threads = 1")
start = time.perf_counter()
rows = con.execute(
    "SELECT code, field, message, count(*) AS n FROM read_json_auto(?, format='newline_delimited') "
    "WHERE status = 'failed' GROUP BY code, field, message ORDER BY n DESC",
    [path],
).fetchall()
print(f"{time.perf_counter() - start:.3f} {len(rows)}")
