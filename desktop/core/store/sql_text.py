"""One SQL text for both back-ends: the store writes SQLite's parameter style and the team
back-end rewrites it for psycopg.

The stores write plain SQL that SQLite and PostgreSQL both run, with `?` (positional) and
`:name` (named) parameters, SQLite's styles. psycopg wants `%s` and `%(name)s`, and a literal
`%` doubled. `pyformat` does that rewrite, skipping string literals, quoted names and
comments, so a `'?'` or `':x'` inside quotes stays text. The rewrite is cached per statement
text: the stores use a few dozen statements over and over.

`postgres_ddl` maps the migrations' column types: SQLite's REAL is a double but PostgreSQL's
is 4 bytes (a Unix time in it would lose its seconds), and INTEGER is 8 bytes in SQLite but 4
in PostgreSQL (an asset's size or a vote count could pass 2**31). TEXT columns get the "C"
collation: SQLite compares and sorts text byte by byte, PostgreSQL by the server's locale
unless told otherwise (under en-US, "ana" sorts before "Ben"; in SQLite after), so a list
comes out in the same order from both whatever locale the team's server was set up with.

Case: SQLite's LOWER, and PostgreSQL's under the "C" collation, fold ASCII letters only, and
the stores compare lowered text with patterns lowered the same way (`ascii_lower`); the jobs'
own search text is lowered by Python when it is written (rows.py), on both back-ends alike.
"""

from __future__ import annotations

import re
from functools import lru_cache

_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


@lru_cache(maxsize=512)
def pyformat(sql: str) -> str:
    """`sql` with `?` -> `%s`, `:name` -> `%(name)s` and `%` -> `%%` outside quotes."""
    out: list[str] = []
    i, n = 0, len(sql)
    while i < n:
        ch = sql[i]
        if ch in ("'", '"'):
            end = i + 1
            while end < n:
                if sql[end] == ch:
                    if end + 1 < n and sql[end + 1] == ch:  # a doubled quote inside
                        end += 2
                        continue
                    break
                end += 1
            out.append(sql[i:end + 1].replace("%", "%%"))
            i = end + 1
        elif ch == "-" and sql.startswith("--", i):
            end = sql.find("\n", i)
            end = n if end < 0 else end
            out.append(sql[i:end].replace("%", "%%"))
            i = end
        elif ch == "?":
            out.append("%s")
            i += 1
        elif ch == "%":
            out.append("%%")
            i += 1
        elif ch == ":" and i + 1 < n and sql[i + 1] == ":":  # a PostgreSQL cast, `x::text`
            out.append("::")
            i += 2
        elif ch == ":" and (match := _NAME.match(sql, i + 1)):
            out.append(f"%({match.group()})s")
            i = match.end()
        else:
            out.append(ch)
            i += 1
    return "".join(out)


_TYPES = ((re.compile(r"\bREAL\b"), "DOUBLE PRECISION"),
          (re.compile(r"\bINTEGER\b"), "BIGINT"),
          (re.compile(r"\bTEXT\b"), 'TEXT COLLATE "C"'))

_ASCII_UPPER = str.maketrans("ABCDEFGHIJKLMNOPQRSTUVWXYZ", "abcdefghijklmnopqrstuvwxyz")


def ascii_lower(text: str) -> str:
    """`text` with A-Z lowered and every other letter as it is: what SQL's LOWER does on both
    back-ends (SQLite's, and PostgreSQL's under the "C" collation)."""
    return text.translate(_ASCII_UPPER)


def postgres_ddl(sql: str) -> str:
    """A migration statement with SQLite's column types spelled as PostgreSQL needs them."""
    for pattern, replacement in _TYPES:
        sql = pattern.sub(replacement, sql)
    return sql
