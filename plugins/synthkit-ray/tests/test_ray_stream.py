"""The streaming ray engine: workers read the source in blocks, the driver holds a bounded window, and distributed dedup keeps what local keeps."""

from __future__ import annotations

import json
import random
from pathlib import Path

import pytest

import synthkit as sk
from synthkit.errors import InputError

pytestmark = pytest.mark.usefixtures("ray_cluster")

VOCAB = [f"t{i}k{(i * 31) % 101}" for i in range(4000)]


def _engine(**options):
    from synthkit_ray.engine import RayEngine

    return RayEngine(**{"block_size": 64, "shards": 3, **options})


def _texts(n: int, seed: int = 5) -> list[str]:
    """Texts with exact copies (other case and punctuation), near copies (1 to 8 words edited) and unrelated texts."""
    rng = random.Random(seed)
    base = [" ".join(rng.choice(VOCAB) for _ in range(rng.randint(30, 60))) for _ in range(n // 3)]
    out = []
    for _ in range(n):
        ws = rng.choice(base).split()
        for _ in range(rng.choice([0, 0, 1, 3, 8])):
            ws[rng.randrange(len(ws))] = rng.choice(VOCAB)
        text = " ".join(ws)
        out.append(text.upper() + "!" if rng.random() < 0.1 else text)
    return out


def _write(path: Path, n: int, seed: int = 5) -> Path:
    with path.open("w") as fh:
        for i, text in enumerate(_texts(n, seed)):
            row = {"text": text, "n": i} if i % 50 else {"other": i}  # some records have no text
            fh.write(json.dumps(row) + "\n")
            if i == 77:
                fh.write("{broken\n")
    return path


def _both(pipeline, tmp: Path, engine) -> dict[str, tuple[bytes, bytes, dict]]:
    """Run a pipeline factory on the local engine and on ``engine``; return each one's output, rejects and counts."""
    out = {}
    for name, eng in (("local", "local"), ("ray", engine)):
        sink, rej = tmp / f"{name}.jsonl", tmp / f"{name}.rej.jsonl"
        summary = pipeline().run(sink, rejects=rej, engine=eng)
        counts = summary.to_dict() | {"elapsed_s": 0}
        out[name] = (sink.read_bytes(), rej.read_bytes() if rej.exists() else b"", counts)
    return out


def test_distributed_exact_and_near_dedup_equal_local(tmp_path):
    """Exact and near dedup over 3 index shards each keep and drop exactly what local keeps and drops, with the same reasons."""
    src = _write(tmp_path / "in.jsonl", 3000)
    engine = _engine()

    def pipeline():
        return (
            sk.Pipeline(src, on_bad_line="skip")
            .filter("length", min_words=2)
            .filter("exact-dedup")
            .filter("near-dedup", threshold=0.7)
        )

    out = _both(pipeline, tmp_path, engine)
    assert out["ray"] == out["local"]
    counts = out["local"][2]
    steps = {d["step"] for d in counts["dropped"]}
    assert {"exact-dedup", "near-dedup", "length"} <= steps
    run = engine.last_run
    assert run["reader"] == "workers" and run["blocks"] > 20
    near = next(d for d in run["dedup"] if d["filter"] == "near-dedup")
    assert len(near["shards"]) == 3 and near["blocks"] == run["blocks"]
    assert sum(s["entries"] for s in near["shards"]) == counts["kept"]  # the index holds exactly the records near-dedup kept


def test_a_stateful_filter_without_shards_between_dedup_filters(tmp_path):
    """novelty (no sharded index: one ordered actor) between exact and near dedup: the same output as local."""
    src = _write(tmp_path / "in.jsonl", 300, seed=6)
    pipeline = lambda: (  # noqa: E731
        sk.Pipeline(src, on_bad_line="skip").filter("exact-dedup").filter("novelty", threshold=0.9, metric="jaccard").filter("near-dedup", threshold=0.7)
    )
    out = _both(pipeline, tmp_path, _engine(block_size=32))
    assert out["ray"] == out["local"]
    assert {"exact-dedup", "novelty"} <= {d["step"] for d in out["local"][2]["dropped"]}


def test_source_larger_than_the_driver_share_streams_in_blocks(tmp_path):
    """A file many times the driver's share is read by workers in blocks; at most the share (plus a block) is ever in flight; output equals local."""
    src = _write(tmp_path / "in.jsonl", 3000)
    size = src.stat().st_size
    share = 32 << 10
    engine = _engine(driver_memory="32KB", block_size=30)
    out = _both(lambda: sk.Pipeline(src, on_bad_line="skip").filter("exact-dedup").filter("near-dedup", threshold=0.8), tmp_path, engine)
    assert out["ray"] == out["local"]
    run = engine.last_run
    assert size > 20 * share
    largest_block = size / run["blocks"] * 3
    assert run["peak_in_flight_bytes"] <= share + largest_block < size / 10


def test_driver_fed_source_is_bounded_too(tmp_path):
    """An in-memory iterable (read by the driver) is fed a block at a time within the window; output equals local."""
    texts = _texts(2000, seed=8)

    def pipeline():
        return sk.Pipeline(sk.Record.create(id=f"r{i}", data={"text": t}) for i, t in enumerate(texts)).filter("near-dedup", threshold=0.7)

    engine = _engine(block_size=50, window=4)
    out = _both(pipeline, tmp_path, engine)
    assert out["ray"] == out["local"]
    assert engine.last_run["reader"] == "driver"
    assert engine.last_run["blocks"] == 40 and engine.last_run["peak_in_flight_blocks"] <= 4


LINES = [
    b'{"text": "first line", "id": "a"}\n',
    b"\n",
    b'{"text": "no id here"}\r\n',
    b"   \n",
    b'{"text": "no id here"}\n',  # the same line elsewhere: another id, then an exact duplicate
    b'{"text": "bad \xff\xfe utf-8"}\n',
    b"{not json\n",
    b"[1, 2, 3]\n",
    b'{"text": "caf\xc3\xa9 \xe2\x80\x94 unicode", "n": 1}\n',
    b'{"prompt": 5}\n',
    b'{"text": "last line, no newline"}',
]


@pytest.mark.parametrize("block_size", [1, 1000])
def test_workers_read_jsonl_lines_as_the_local_reader_does(tmp_path, block_size):
    """Blank lines, CRLF, lines without ids, bad UTF-8, bad JSON, non-objects, no final newline: blocks cut anywhere read as locally."""
    src = tmp_path / "in.jsonl"
    src.write_bytes(b"".join(LINES * 3))
    out = _both(lambda: sk.Pipeline(src, on_bad_line="skip").filter("exact-dedup"), tmp_path, _engine(block_size=block_size))
    assert out["ray"] == out["local"]
    counts = out["local"][2]
    assert counts["inputs"] == 25  # 9 lines a copy, but the last line of a copy runs into the first of the next
    assert next(f["count"] for f in counts["failed"] if f["kind"] == "bad_line") == 14


@pytest.mark.parametrize("block_size", [2])
def test_a_bad_line_stops_workers_reading_as_locally(tmp_path, block_size):
    """With on_bad_line='stop', the run raises the local reader's InputError after writing the same records."""
    src = tmp_path / "in.jsonl"
    src.write_bytes(b"".join(LINES[:5]) + b"".join(LINES[:5]) + LINES[6])
    seen = {}
    for name, engine in (("local", "local"), ("ray", _engine(block_size=block_size))):
        with pytest.raises(InputError) as info:
            sk.Pipeline(src).filter("exact-dedup").run(tmp_path / f"{name}.jsonl", engine=engine)
        seen[name] = (str(info.value), info.value.summary.kept, info.value.summary.inputs, (tmp_path / f"{name}.jsonl").read_bytes())
    assert seen["ray"] == seen["local"]
    assert ":11: " in seen["local"][0]


def test_parquet_folder_read_by_workers_row_group_by_row_group(tmp_path):
    """A folder of Parquet files with several row groups each is read a row group per task, ids and order as locally."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    texts = _texts(900, seed=9)
    folder = tmp_path / "parts"
    folder.mkdir()
    for k in range(3):
        part = texts[k * 300 : (k + 1) * 300]
        table = pa.table({"text": part, "n": list(range(k * 300, (k + 1) * 300))})
        pq.write_table(table, folder / f"part-{k}.parquet", row_group_size=70)
    engine = _engine()
    out = _both(lambda: sk.Pipeline(folder).filter("exact-dedup").filter("near-dedup", threshold=0.7), tmp_path, engine)
    assert out["ray"] == out["local"]
    assert engine.last_run["reader"] == "workers" and engine.last_run["blocks"] == 3 * 5


def test_reader_option_is_checked():
    """reader='workers' refuses a source only the driver can read; unknown readers and sizes are refused when built."""
    from synthkit_ray.engine import RayEngine, RayEngineError, parse_bytes

    with pytest.raises(RayEngineError, match="reader='workers' reads JSONL and Parquet files only"):
        sk.Pipeline([sk.Record.create(data={"text": "x"})]).filter("exact-dedup").run(None, engine=RayEngine(reader="workers"))
    with pytest.raises(ValueError, match="reader must be one of"):
        RayEngine(reader="nodes")
    assert parse_bytes("64KB") == 65536 and parse_bytes("1.5g") == 3 << 29 and parse_bytes(10) == 10
    with pytest.raises(ValueError, match="as a size"):
        parse_bytes("lots")
