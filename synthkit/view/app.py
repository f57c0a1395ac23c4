"""Serving the viewer: datasette over the index, with the synthkit plugin, on 127.0.0.1."""

from __future__ import annotations

import socket
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from synthkit._deps import require
from synthkit.view.index import FACETS, Index, build_index

__all__ = ["SETTINGS", "datasette_app", "view"]

#: Datasette settings (``--setting``) of the viewer: pages of 50, facets bounded in time, no facet suggestions
#: (each would scan the table), and nothing downloads the whole file.
SETTINGS = {
    "default_page_size": 50,
    "max_returned_rows": 1000,
    "facet_time_limit_ms": 2000,
    "sql_time_limit_ms": 3000,
    "suggest_facets": False,
    "allow_download": False,
    "default_facet_size": 20,
}


#: The facets every page shows; the others of :data:`~synthkit.view.index.FACETS` (and the verdicts) are one click away,
#: so a page of a million records runs six indexed GROUP BYs, not ten.
DEFAULT_FACETS = ("status", "step", "reason", "teacher", "model", "generation")


def _metadata(index: Index) -> dict[str, Any]:
    names = ", ".join(f.name for f in index.files)
    hidden = {"hidden": True}
    more = [f for f in FACETS if f not in DEFAULT_FACETS]
    links = " · ".join(f'<a href="?_facet={f}">{f}</a>' for f in more) + ' · <a href="?_facet_array=verdicts">verdicts</a>'
    return {
        "title": f"synthkit view: {names}",
        "databases": {
            "run": {
                "tables": {
                    "records": {
                        "description_html": (
                            "Kept records and rejects of a synthkit run; open an id for the whole record and its lineage. "
                            f"More facets: {links}."
                        ),
                        "facets": list(DEFAULT_FACETS),
                        "fts_table": "records_fts",
                        "fts_pk": "rowid",
                        "label_column": "id",
                        "sortable_columns": ["status", "step", "reason", "teacher", "model", "template", "generation", "origin", "stratum", "file"],
                    },
                    "lines": hidden,
                    "files": hidden,
                    "meta": hidden,
                }
            }
        },
    }


def datasette_app(index: Index) -> Any:
    """Return the :class:`datasette.app.Datasette` that serves ``index`` with the synthkit plugin."""
    require("datasette", extra="view")
    from datasette.app import Datasette
    from datasette.database import Database
    from datasette.plugins import pm

    from synthkit.view import plugin

    if not pm.is_registered(plugin):
        pm.register(plugin, name="synthkit-view")
    ds = Datasette(
        metadata=_metadata(index),
        settings=SETTINGS,
        template_dir=str(Path(__file__).parent / "templates"),
        inspect_data=_inspect(index),
    )
    ds.add_database(Database(ds, path=str(index.path), is_mutable=False), name=plugin.DATABASE)
    return ds


def _inspect(index: Index) -> dict[str, Any]:
    """What ``datasette inspect`` would say of the (immutable) index, known without reading it: no hashing, no counting."""
    import hashlib
    import sqlite3

    with sqlite3.connect(f"file:{index.path}?mode=ro", uri=True) as db:
        stamp = db.execute("select value from meta where key = 'stamp'").fetchone()[0]
        tables = [r[0] for r in db.execute("select name from sqlite_master where type = 'table'")]
        small = {t: db.execute(f"select count(*) from [{t}]").fetchone()[0] for t in ("files", "meta")}
    counts = {t: {"count": small.get(t, index.rows)} for t in tables}
    digest = hashlib.sha256(stamp.encode()).hexdigest()
    return {"run": {"hash": digest, "size": index.path.stat().st_size, "file": str(index.path), "tables": counts}}


def _socket(port: int) -> socket.socket:
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind(("127.0.0.1", port))
    except OSError as exc:
        from synthkit.errors import InputError

        sock.close()
        msg = f"port {port} on 127.0.0.1 is taken ({exc.strerror}); give another with --port, or --port 0 for any free one"
        raise InputError(msg) from None
    return sock


def view(
    files: Sequence[str | Path],
    *,
    rejects: Sequence[str | Path] = (),
    port: int = 8001,
    open_browser: bool = True,
    stratum_field: str = "stratum",
    ready: Callable[[str], None] | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> None:
    """Index the kept records ``files`` and the ``rejects`` files, and serve them on 127.0.0.1 until interrupted.

    Args:
        files: kept records (JSONL), e.g. the run's output; several files view together.
        rejects: rejects or failures files of the run.
        port: the port on 127.0.0.1 (``0``: any free port).
        open_browser: open the page in the browser, when this machine has one.
        stratum_field: the record field holding the mixer stratum.
        ready: called with the page's URL once it serves.
        progress: told (bytes read, total) while the index is built.
    """
    require("datasette", extra="view")
    import uvicorn

    index = build_index([*files, *rejects], stratum_field=stratum_field, progress=progress)
    ds = datasette_app(index)
    sock = _socket(port)
    url = f"http://127.0.0.1:{sock.getsockname()[1]}/"
    config = uvicorn.Config(ds.app(), log_level="warning", lifespan="off")
    server = uvicorn.Server(config)

    async def serve() -> None:
        import asyncio

        task = asyncio.create_task(server.serve(sockets=[sock]))
        while not server.started and not task.done():
            await asyncio.sleep(0.02)
        if server.started:
            if ready is not None:
                ready(url)
            if open_browser:
                _open(url)
        await task

    import asyncio

    try:
        asyncio.run(serve())
    except KeyboardInterrupt:
        pass
    finally:
        sock.close()


def _open(url: str) -> None:
    """Open ``url`` in the browser when there is one; say nothing when there is none."""
    import webbrowser

    try:
        webbrowser.get()
    except webbrowser.Error:
        return
    webbrowser.open(url)
