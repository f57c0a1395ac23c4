"""The viewer: browse a run's kept records and rejects in a local web page (``synthkit view``).

* :mod:`~synthkit.view.index`: :func:`build_index`, the SQLite index of the JSONL files, built streaming and reused;
* :mod:`~synthkit.view.app`: :func:`view`, datasette over the index on 127.0.0.1;
* :mod:`~synthkit.view.plugin`: the datasette plugin: the record page with its lineage tree.

Needs the ``view`` extra (datasette): ``pip install 'synthkit[view]'``.
"""

from __future__ import annotations

from synthkit._lazy import exports

__all__ = ["Index", "build_index", "datasette_app", "index_path", "view"]

__getattr__, __dir__ = exports(
    __name__,
    {"Index": "index", "build_index": "index", "index_path": "index", "datasette_app": "app", "view": "app"},
    globals(),
)
