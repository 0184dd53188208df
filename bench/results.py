#!/usr/bin/env python3
"""Replace one section of bench/RESULTS.md with new text.
usage: results.py SECTION < markdown
Sections are delimited by <!-- SECTION:start --> and <!-- SECTION:end -->."""
import pathlib, sys
section = sys.argv[1]
body = sys.stdin.read().strip()
path = pathlib.Path(__file__).with_name("RESULTS.md")
text = path.read_text() if path.exists() else "# Benchmark results\n\nEach section is written by the script it names; rerun it to refresh.\n"
start, end = f"<!-- {section}:start -->", f"<!-- {section}:end -->"
block = f"{start}\n{body}\n{end}"
if start in text and end in text:
    head, rest = text.split(start, 1)
    _, tail = rest.split(end, 1)
    text = head + block + tail
else:
    text = text.rstrip() + "\n\n" + block + "\n"
path.write_text(text)
