"""The datasette plugin of ``synthkit view``: the record page, links from the table to it, and ``/`` to the table.

Datasette serves the table (search, facets, pagination); this plugin adds what it lacks for
synthkit records: ``/-/synthkit/record/ID`` shows one record whole (messages, response,
reasoning, a preference pair side by side, verdicts, regenerate attempts, costs, the reject)
and its lineage as a tree through its parents, each parent linked when it is in the files.
"""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import quote, unquote

from datasette import hookimpl
from datasette.utils.asgi import Response
from markupsafe import Markup, escape

from synthkit.view.index import read_line

__all__ = ["DATABASE", "record_url"]

#: The name the index is served under.
DATABASE = "run"

#: Lineage nodes shown at most on one record page.
_MAX_NODES = 200
_MAX_DEPTH = 12

#: Record fields shown in their own sections, not among the other fields.
_SHOWN = frozenset({"id", "prompt", "messages", "response", "lineage", "reject", "reasoning", "chosen", "rejected"})


def record_url(rid: str) -> str:
    """The record page of the record with id ``rid``."""
    return f"/-/synthkit/record/{quote(rid, safe='')}"


def _rows_of(conn: Any, rid: str) -> list[tuple[int, str]]:
    return conn.execute("select rowid, status from records where id = ? order by rowid limit 20", (rid,)).fetchall()


def _tree(conn: Any, rec: dict[str, Any], seen: set[str], budget: list[int], depth: int = 0) -> list[dict[str, Any]]:
    """The parents of ``rec``, each with its own parents, as far as the files hold them."""
    out = []
    for pid in (rec.get("lineage") or {}).get("parents") or ():
        pid = str(pid)
        if budget[0] <= 0:
            break
        budget[0] -= 1
        rows = _rows_of(conn, pid)
        node: dict[str, Any] = {"id": pid, "url": record_url(pid) if rows else None, "status": rows[0][1] if rows else None, "parents": []}
        if rows and pid not in seen and depth < _MAX_DEPTH:
            parent = read_line(conn, rows[0][0])
            if parent is not None:
                node["summary"] = _summary(parent)
                node["parents"] = _tree(conn, parent, seen | {pid}, budget, depth + 1)
        out.append(node)
    return out


def _summary(rec: dict[str, Any]) -> str:
    text = rec.get("prompt") or rec.get("response") or rec.get("text") or ""
    if not text and rec.get("messages"):
        text = str(rec["messages"][-1].get("content", ""))
    text = str(text).replace("\n", " ")
    return text if len(text) <= 100 else text[:97] + "..."


def _content(value: Any) -> str:
    if isinstance(value, str):
        return value
    if isinstance(value, list) and all(isinstance(m, dict) and "content" in m for m in value):
        return "\n\n".join(f"{m.get('role', '?')}: {m['content']}" for m in value)
    return json.dumps(value, ensure_ascii=False, indent=2)


async def record_page(datasette: Any, request: Any) -> Response:
    """One record, whole, with its lineage tree."""
    rid = unquote(request.url_vars["rid"])  # the raw path keeps an id's quoted slashes
    db = datasette.get_database(DATABASE)

    def load(conn: Any) -> dict[str, Any] | None:
        rows = _rows_of(conn, rid)
        if not rows:
            return None
        rec = read_line(conn, rows[0][0])
        if rec is None:
            return None
        file = conn.execute("select r.file from records r where r.rowid = ?", (rows[0][0],)).fetchone()[0]
        return {"record": rec, "rows": rows, "file": file, "tree": _tree(conn, rec, {rid}, [_MAX_NODES])}

    found = await db.execute_fn(load)
    if found is None:
        html = await datasette.render_template(
            "synthkit_missing.html", {"rid": rid, "table_url": datasette.urls.table(DATABASE, "records")}, request=request
        )
        return Response.html(html, status=404)
    rec = found["record"]
    lin = rec.get("lineage") or {}
    others = {k: v for k, v in rec.items() if k not in _SHOWN}
    context = {
        "rid": rid,
        "rec": rec,
        "lin": lin,
        "file": found["file"],
        "copies": len(found["rows"]),
        "status": found["rows"][0][1],
        "reject": rec.get("reject"),
        "messages": rec.get("messages"),
        "reasoning": rec.get("reasoning"),
        "pair": None if "chosen" not in rec or "rejected" not in rec else (_content(rec["chosen"]), _content(rec["rejected"])),
        "others": {k: v if isinstance(v, str) else json.dumps(v, ensure_ascii=False) for k, v in others.items()},
        "params": json.dumps(lin.get("params") or {}, ensure_ascii=False),
        "usage": lin.get("usage") or {},
        "costs": lin.get("costs") or [],
        "attempts": [{k: (v if isinstance(v, str) else json.dumps(v, ensure_ascii=False)) for k, v in a.items()} for a in lin.get("attempts") or []],
        "tree": found["tree"],
        "raw": json.dumps(rec, ensure_ascii=False, indent=2),
        "table_url": datasette.urls.table(DATABASE, "records"),
    }
    return Response.html(await datasette.render_template("synthkit_record.html", context, request=request))


async def home(datasette: Any, request: Any) -> Response:
    """``/`` opens the records table."""
    return Response.redirect(datasette.urls.table(DATABASE, "records"))


@hookimpl
def register_routes(datasette: Any) -> list[tuple[str, Any]]:
    return [(r"^/$", home), (r"^/-/synthkit/record/(?P<rid>[^/]+)$", record_page)]


@hookimpl
def render_cell(row: Any, value: Any, column: str, table: str, database: str, datasette: Any) -> Any:
    """Link each record's id to its record page; show the verdict list as text."""
    if database != DATABASE or table != "records":
        return None
    if column == "id" and isinstance(value, str):
        return Markup(f'<a class="synthkit-record" href="{escape(record_url(value))}">{escape(value)}</a>')
    if column == "verdicts" and isinstance(value, str):
        try:
            return ", ".join(json.loads(value))
        except ValueError:
            return None
    return None
