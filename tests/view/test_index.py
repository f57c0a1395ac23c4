"""The viewer's index: every line of every file is one row, reused until a file changes, errors name file and line."""

from __future__ import annotations

import json
import sqlite3

import pytest

from synthkit.errors import InputError
from synthkit.view.index import build_index, read_line


def _count(path):
    return sum(1 for line in open(path) if line.strip())


def test_index_has_a_row_per_line_and_reads_each_record_back(run_files):
    """Kept records and rejects are all rows; each row's record reads back whole from its file."""
    files = [run_files["gen2"], run_files["gen1"], run_files["rej2"], run_files["rej1"]]
    index = build_index(files, path=run_files["gen2"].with_suffix(".test.sqlite"))
    assert index.rows == sum(_count(f) for f in files)
    db = sqlite3.connect(index.path)
    by_status = dict(db.execute("select status, count(*) from records group by status"))
    assert by_status["kept"] == _count(run_files["gen1"]) + _count(run_files["gen2"])
    assert by_status["dropped"] == _count(run_files["rej1"]) + _count(run_files["rej2"])
    rowid, rid, reason = db.execute("select rowid, id, reason from records where status = 'dropped' and step = 'final-answer' limit 1").fetchone()
    assert "#" in reason  # masked, so like reasons facet together
    rec = read_line(db, rowid)
    assert rec["id"] == rid and rec["reject"]["step"] == "final-answer"
    assert db.execute("select count(*) from records_fts where records_fts match ?", ('"answer"',)).fetchone()[0] > 0


def test_index_is_reused_until_a_file_changes(run_files, tmp_path):
    """A second open with the same files reuses the index; touching a file rebuilds it."""
    out = tmp_path / "out.jsonl"
    out.write_text(run_files["gen1"].read_text())
    first = build_index([out])
    assert not first.reused and first.path == tmp_path / "out.view.sqlite"
    assert build_index([out]).reused
    with open(out, "a") as fh:
        fh.write(json.dumps({"id": "extra", "prompt": "one more"}) + "\n")
    again = build_index([out])
    assert not again.reused and again.rows == first.rows + 1


def test_a_bad_line_names_the_file_and_line(tmp_path):
    """A line that is not a JSON object stops the index with its file and line."""
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"id": "a"}\n\nnot json\n')
    with pytest.raises(InputError, match=r"bad.jsonl:3: not a JSON object"):
        build_index([bad])
    assert not (tmp_path / "bad.view.sqlite").exists()


def test_record_page_serves_odd_ids_and_says_when_one_is_missing(tmp_path):
    """An id with a slash, quotes and non-ASCII opens its page; an unknown id is a 404 page, not an error."""
    import asyncio

    from synthkit.view.app import datasette_app
    from synthkit.view.plugin import record_url

    out = tmp_path / "out.jsonl"
    rid = "run/1 'é' <b>"
    out.write_text(json.dumps({"id": rid, "prompt": "hi <script>", "response": "ok", "chosen": "good", "rejected": "bad", "reasoning": "because"}) + "\n")
    ds = datasette_app(build_index([out]))

    async def pages():
        found = await ds.client.get(record_url(rid))
        missing = await ds.client.get(record_url("nope"))
        return found, missing

    found, missing = asyncio.run(pages())
    assert found.status_code == 200
    html = found.text
    assert "run/1 &#39;é&#39; &lt;b&gt;" in html and "hi &lt;script&gt;" in html  # escaped
    assert 'class="sk-text sk-chosen">good<' in html and 'class="sk-text sk-rejected">bad<' in html
    assert 'class="sk-text sk-reasoning">because<' in html
    assert missing.status_code == 404 and "No record" in missing.text


def test_parsing_in_a_worker_keeps_every_line_in_order_and_names_a_bad_line(tmp_path, monkeypatch):
    """Pieces parsed in a worker process give the same rows, in file order, as parsing here; a bad line keeps its number."""
    import synthkit.view.index as index_module

    monkeypatch.setattr(index_module, "_CHUNK", 200)  # many pieces, so the order across pieces counts
    out = tmp_path / "out.jsonl"
    rej = tmp_path / "rejects.jsonl"
    out.write_text("".join(json.dumps({"id": f"k{i}", "prompt": f"task {i}", "response": "x" * (i % 7)}) + "\n" + ("\n" if i % 5 == 0 else "") for i in range(60)))
    rej.write_text("".join(json.dumps({"id": f"r{i}", "reject": {"status": "dropped", "step": "math", "reason": f"final answer {i} != expected 3"}}) + "\n" for i in range(30)))

    def rows(workers):
        index = build_index([out, rej], path=tmp_path / f"w{workers}.sqlite", workers=workers)
        db = sqlite3.connect(index.path)
        got = db.execute("select r.rowid, r.id, r.reason, l.file, l.offset from records r join lines l on l.rowid = r.rowid order by r.rowid").fetchall()
        assert [read_line(db, rowid)["id"] for rowid, *_ in got] == [g[1] for g in got]
        db.close()
        return index.rows, got

    serial = rows(0)
    assert rows(1) == serial and rows(2) == serial
    assert serial[0] == 90 and [g[1] for g in serial[1]] == [f"k{i}" for i in range(60)] + [f"r{i}" for i in range(30)]
    with open(rej, "a") as fh:
        fh.write("[1, 2]\n")
    with pytest.raises(InputError, match=r"rejects.jsonl:31: a record must be a JSON object, got list"):
        build_index([out, rej], path=tmp_path / "bad.sqlite", workers=2)
    assert not (tmp_path / "bad.sqlite").exists()
    assert not list(tmp_path.glob("*.parts")) and not list(tmp_path.glob("*.tmp"))  # no piece left behind
