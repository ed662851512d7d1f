"""Live indexes: ``ann.Writer`` (upsert, delete, sync, compact, close), its ``index()``,
``ann.open`` of a directory or a file, ``refresh`` and ``export``, and a reader in another
process that follows the writes and a compaction."""

from __future__ import annotations

import ctypes
import gc
import json
import math
import os
import pickle
import signal
import subprocess
import sys
import threading
from pathlib import Path

import numpy as np
import pytest
from support import dataset, nearest_first, true_distances

import ann
from ann import AnnoyIndex, _native

DIM = 8
EVERYTHING = 10**6  # n or search_k larger than any index here: every item, exact answers


def child_env() -> dict:
    """The environment of a child Python that imports this ``ann`` and this library."""
    env = {**os.environ, "ANN_LIB": str(ann.library_path), "PYTHONDONTWRITEBYTECODE": "1"}
    package_root = str(Path(ann.__file__).resolve().parents[1])
    env["PYTHONPATH"] = os.pathsep.join(p for p in (package_root, env.get("PYTHONPATH")) if p)
    return env


def keys_of(index: AnnoyIndex) -> list:
    """Every key the index returns, from an exact search: the items it holds."""
    return sorted(index.search([0.0] * index.f, EVERYTHING))


@pytest.fixture
def data():
    return dataset("euclidean", 300, DIM, seed=11)


@pytest.fixture
def writer(tmp_path):
    with ann.Writer(tmp_path / "live", DIM, "euclidean", n_trees=5) as writer:
        yield writer


# -- visible at once ----------------------------------------------------------------------


def test_an_upsert_is_returned_by_the_next_query_and_a_delete_never_is(writer, data):
    index = writer.index()
    assert index.get_n_stored() == 0 and index.search(data[0], 5) == []
    for key in range(60):
        writer.upsert(key, data[key])
        assert index.get_nns_by_vector(data[key], 1) == [key]
        assert index.search(data[key], 1, include_distances=True) == ([key], [0.0])
        assert index.get_item_vector(key) == data[key].tolist()
    assert index.get_n_stored() == index.get_n_items() == 60
    gone = [0, 7, 59, 33]
    for key in gone:
        assert writer.delete(key) is True
        assert key not in index.get_nns_by_vector(data[key], EVERYTHING)
        assert key not in index.search(data[key], EVERYTHING)
        with pytest.raises(IndexError):
            index.get_item_vector(key)
    left = sorted(set(range(60)) - set(gone))
    assert keys_of(index) == left and index.get_n_stored() == 56
    assert index.get_n_items() == 59  # the largest key left, plus 1
    # Every query form works on the writer's index, and none returns a deleted key.
    assert index.get_nns_by_item(1, 3)[0] == 1
    assert index.search_by_item(1, 3, deny=[1])[0] != 1
    ids = index.get_nns_by_vectors(data[:60], 5)
    assert ids.shape == (60, 5) and not set(ids.ravel().tolist()) & set(gone)
    batch = index.search_batch(data[:60], 56)
    assert batch.shape == (60, 56) and all(sorted(row) == left for row in batch.tolist())
    assert math.isclose(index.get_distance(1, 2), float(np.linalg.norm(data[1] - data[2])), rel_tol=1e-5)
    assert index.search(data[1], 3, allow=[2, 3, 7]) == sorted([2, 3], key=lambda k: index.get_distance(1, k))


def test_batches_are_visible_at_once_and_numpy_keys_work(writer, data):
    index = writer.index()
    writer.upsert_many(range(100), data[:100])
    writer.upsert_many(np.arange(100, 200, dtype=np.uint64), data[100:200].tolist())  # lists of lists
    writer.upsert_many([], np.empty((0, DIM), dtype=np.float32))
    assert keys_of(index) == list(range(200))
    assert writer.delete_many(np.arange(0, 200, 2, dtype=np.int64)) == 100
    assert writer.delete_many([0, 2, 1, 10**15]) == 1  # only 1 was still there
    assert keys_of(index) == list(range(3, 200, 2))
    assert writer.delete_many([]) == 0


def test_an_upsert_replaces_the_vector_of_an_existing_key(writer, data):
    index = writer.index()
    writer.upsert_many([1, 2, 3], data[:3])
    writer.upsert(2, data[10])
    assert index.get_n_stored() == 3
    assert index.get_item_vector(2) == data[10].tolist()
    assert index.search(data[10], 1) == [2]
    assert index.search(data[1], 3, include_distances=True)[1][-1] != 0.0  # the old vector is gone
    writer.upsert_many([3, 3], data[20:22])  # the last row for a key wins
    assert index.get_item_vector(3) == data[21].tolist()


def test_deleting_an_unknown_key_is_false_not_an_error(writer, data):
    assert writer.delete(5) is False
    writer.upsert(5, data[0])
    assert writer.delete(5) is True
    assert writer.delete(5) is False
    assert writer.delete(ann.NO_KEY - 1) is False


def test_sparse_64_bit_keys(writer, data):
    keys = [2**63 + 5, 2**40, 17, ann.NO_KEY - 1]
    writer.upsert_many(keys, data[:4])
    index = writer.index()
    assert keys_of(index) == sorted(keys)
    assert index.get_item_vector(2**40) == data[1].tolist()
    assert index.search(data[3], 1) == [ann.NO_KEY - 1]
    assert writer.delete(2**63 + 5) is True


# -- durability ---------------------------------------------------------------------------


def test_close_and_reopen_keeps_every_write(tmp_path, data):
    path = tmp_path / "live"
    with ann.Writer(path, DIM, "euclidean") as writer:
        writer.upsert_many(range(50), data[:50])
        writer.upsert(7, data[100])
        writer.delete(8)
        writer.delete_many([9, 10])
        assert writer.closed is False
    assert writer.closed is True
    with ann.Writer(str(path), DIM, "euclidean") as again:
        index = again.index()
        assert keys_of(index) == sorted(set(range(50)) - {8, 9, 10})
        assert index.get_item_vector(7) == data[100].tolist()
        assert index.get_item_vector(49) == data[49].tolist()
        again.upsert(50, data[50])
    assert ann.open(path).get_n_stored() == 48


def test_the_garbage_collector_closes_a_forgotten_writer(tmp_path, data):
    path = tmp_path / "live"
    forgotten = ann.Writer(path, DIM, "euclidean")
    forgotten.upsert(1, data[1])
    index = forgotten.index()
    del forgotten
    gc.collect()
    with ann.Writer(path, DIM, "euclidean") as writer:  # the directory was released
        assert writer.index().get_item_vector(1) == data[1].tolist()
    assert index.get_item_vector(1) == data[1].tolist()  # outlives its writer


def test_timer_durability_and_sync(tmp_path, data):
    path = tmp_path / "live"
    with ann.Writer(path, DIM, "euclidean", durability="timer", flush_ms=20, n_trees=3) as writer:
        assert (writer.durability, writer.flush_ms, writer.n_trees) == ("timer", 20, 3)
        assert (writer.f, writer.metric, writer.path) == (DIM, "euclidean", str(path))
        writer.upsert_many(range(100), data[:100])
        writer.delete(3)
        writer.sync()
        reader = ann.open(path)
        assert reader.get_n_stored() == 99
        writer.upsert(100, data[100])
        writer.sync()
        assert reader.refresh() is True and reader.get_n_stored() == 100
    with ann.Writer(path, DIM, "euclidean", durability="timer") as writer:
        assert keys_of(writer.index()) == sorted(set(range(101)) - {3})


CRASH = """
import os, signal, sys
import numpy as np
import ann
path, durability = sys.argv[1], sys.argv[2]
data = np.random.default_rng(5).standard_normal((300, 8)).astype(np.float32)
writer = ann.Writer(path, 8, "euclidean", durability=durability, flush_ms=60000)
for key in range(200):
    writer.upsert(key, data[key])
writer.upsert_many(range(200, 300), data[200:])
writer.upsert(0, data[299])
writer.delete(3)
print("acknowledged", flush=True)
os.kill(os.getpid(), signal.SIGKILL)  # no close, no sync, no exit handlers
"""


@pytest.mark.parametrize("durability", ["sync", "timer"])
def test_a_killed_writer_loses_no_acknowledged_write(tmp_path, durability):
    path = tmp_path / "live"
    result = subprocess.run(
        [sys.executable, "-c", CRASH, str(path), durability],
        env=child_env(),
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == -signal.SIGKILL, result.stderr
    assert result.stdout == "acknowledged\n"
    data = np.random.default_rng(5).standard_normal((300, 8)).astype(np.float32)
    with ann.Writer(path, 8, "euclidean") as writer:  # the kernel released the dead writer's lock
        index = writer.index()
        assert keys_of(index) == sorted(set(range(300)) - {3})
        assert index.get_item_vector(0) == data[299].tolist()
        assert index.get_item_vector(250) == data[250].tolist()


# -- compaction ---------------------------------------------------------------------------


def test_compaction_keeps_every_item_and_the_answers(writer, data):
    index = writer.index()
    writer.upsert_many(range(300), data)
    writer.delete_many(range(0, 300, 3))
    writer.upsert(1, data[0])
    queries = dataset("euclidean", 10, DIM, seed=12)
    before = [index.search(q, 10, search_k=EVERYTHING, include_distances=True) for q in queries]
    reader = ann.open(writer.path)
    assert index.get_n_trees() == 0

    writer.compact(n_jobs=1)

    assert index.get_n_trees() == 5  # the writer's n_trees
    assert index.get_n_stored() == 200 and keys_of(index) == keys_of(reader)
    after = [index.search(q, 10, search_k=EVERYTHING, include_distances=True) for q in queries]
    assert after == before
    # The exact answer, from the vectors themselves.
    live = np.array(keys_of(index))
    vectors = data.copy()
    vectors[1] = data[0]
    for q, (ids, distances) in zip(queries, after):
        truth = true_distances("euclidean", vectors[live], q)
        assert ids == live[nearest_first("euclidean", truth)[:10]].tolist()
        assert np.allclose(distances, np.sort(truth)[:10], rtol=1e-5)
    assert all(index.get_item_vector(k) == vectors[k].tolist() for k in live)
    # A reader opened before the compaction keeps answering, then catches up.
    assert reader.get_n_trees() == 0 and reader.search(queries[0], 10, search_k=EVERYTHING) == after[0][0]
    assert reader.refresh() is True and reader.get_n_trees() == 5
    # Writes after a compaction go on as before, and a second compaction folds them in.
    writer.upsert(1000, data[5])
    writer.delete(1)
    writer.compact()
    assert keys_of(index) == sorted(set(live.tolist()) - {1} | {1000})


def test_a_writer_with_graph_compacts_and_exports_with_a_graph(tmp_path):
    data = dataset("euclidean", 600, DIM, seed=13)
    with ann.Writer(tmp_path / "live", DIM, "euclidean", n_trees=2, graph=True) as writer:
        assert (writer.graph, writer.n_trees) == (True, 2)
        writer.upsert_many(range(600), data)
        index = writer.index()
        assert index.has_graph() is False  # the log's items, not yet compacted
        writer.compact(n_jobs=2)
        assert index.has_graph() is True
        for key in (0, 123, 599):
            assert index.search(data[key], 1) == [key]
            assert index.get_nns_by_vector(data[key], 1) == [key]
        index.export(tmp_path / "graph.ann")
    exported = ann.open(tmp_path / "graph.ann")
    assert exported.has_graph() is True
    assert (exported.get_n_stored(), exported.get_n_trees()) == (600, 2)
    assert exported.search(data[42], 1) == [42]
    with ann.Writer(tmp_path / "degree", DIM, "euclidean", n_trees=2, graph=np.int64(8)) as writer:
        assert writer.graph == 8 and type(writer.graph) is int
        writer.upsert_many(range(50), data[:50])
        writer.compact(n_jobs=1)
        assert writer.index().has_graph() is True


def test_a_writer_without_graph_compacts_to_no_graph(writer, data):
    assert writer.graph is False
    writer.upsert_many(range(300), data)
    writer.compact(n_jobs=1)
    assert writer.index().has_graph() is False


def test_writes_and_queries_go_on_during_a_compaction(writer, data):
    index = writer.index()
    writer.upsert_many(range(200), data[:200])
    failures = []

    def compact():
        try:
            writer.compact(1)
        except BaseException as error:  # noqa: B902 - reported by the assertion below
            failures.append(error)

    thread = threading.Thread(target=compact)
    thread.start()
    for key in range(200, 300):
        writer.upsert(key, data[key])
        assert index.search(data[key], 1) == [key]
    writer.delete_many(range(50))
    thread.join()
    assert failures == []
    assert keys_of(index) == list(range(50, 300))
    writer.compact(1)
    assert keys_of(index) == list(range(50, 300)) and index.get_n_trees() == 5


def test_many_threads_write_at_once(writer, data):
    def work(start):
        for key in range(start, 300, 4):
            writer.upsert(key, data[key])
            if key % 3 == 0:
                writer.delete(key)

    threads = [threading.Thread(target=work, args=(s,)) for s in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert keys_of(writer.index()) == [k for k in range(300) if k % 3]


# -- one writer ---------------------------------------------------------------------------


def test_a_second_writer_on_the_directory_is_a_runtime_error(writer, data):
    with pytest.raises(RuntimeError, match="already open for writing") as caught:
        ann.Writer(writer.path, DIM, "euclidean")
    assert caught.value.ann_status == "ANN_STATUS_INVALID_STATE"
    writer.upsert(1, data[1])  # the first writer is unharmed
    writer.close()
    with ann.Writer(writer.path, DIM, "euclidean") as second:
        assert second.index().get_n_stored() == 1


@pytest.mark.skipif(not hasattr(os, "fork"), reason="needs fork")
@pytest.mark.filterwarnings("ignore::DeprecationWarning")  # fork with the writer's threads running
def test_a_forked_child_cannot_use_or_release_the_parents_writer(writer, data):
    writer.upsert(1, data[1])
    pid = os.fork()
    if pid == 0:  # the child: everything here must end in os._exit
        code = 1
        try:
            try:
                writer.upsert(2, data[2])
            except ValueError as error:
                code = 0 if "forked child" in str(error) and writer.closed else 3
            writer.close()  # a no-op here: the writer is the parent's
            del writer
            gc.collect()
        finally:
            os._exit(code)
    _, status = os.waitpid(pid, 0)
    assert os.waitstatus_to_exitcode(status) == 0
    writer.upsert(3, data[3])  # still the parent's, and still locked
    assert keys_of(writer.index()) == [1, 3]
    with pytest.raises(RuntimeError):
        ann.Writer(writer.path, DIM, "euclidean")


# -- bad input ----------------------------------------------------------------------------


def test_bad_vectors_and_keys_are_value_and_index_errors(writer, data):
    index = writer.index()
    for bad in (math.nan, math.inf, -math.inf):
        vector = data[0].copy()
        vector[3] = bad
        with pytest.raises(ValueError, match="ann_upsert: .*value 3"):
            writer.upsert(1, vector)
        with pytest.raises(ValueError, match="ann_upsert_batch"):
            writer.upsert_many([1, 2], [data[1], vector])  # one record: nothing of it is applied
    with pytest.raises(ann.IntegerOverflow, match="reserved"):
        writer.upsert(ann.NO_KEY, data[0])
    with pytest.raises(ann.IntegerOverflow, match="reserved"):
        writer.delete(2**64 - 1)
    with pytest.raises(ann.IntegerOverflow, match="64 bits"):
        writer.upsert(2**64, data[0])
    with pytest.raises(ValueError, match="negative"):
        writer.upsert(-1, data[0])
    with pytest.raises(ValueError, match="negative"):
        writer.delete(-5)
    with pytest.raises(ValueError, match="reserved"):
        writer.upsert_many([1, ann.NO_KEY], data[:2])
    with pytest.raises(ValueError, match="negative"):
        writer.delete_many(np.array([1, -2]))
    with pytest.raises(TypeError):
        writer.upsert(1.0, data[0])
    with pytest.raises(TypeError):
        writer.delete_many("abc")
    with pytest.raises(IndexError, match=r"wrong length \(expected 8, got 7\)"):
        writer.upsert(1, data[0][:7])
    with pytest.raises(IndexError, match="wrong length"):
        writer.upsert_many([1], data[:1, :7])
    with pytest.raises(ValueError, match="2 keys but 3 vectors"):
        writer.upsert_many([1, 2], data[:3])
    assert index.get_n_stored() == 0  # nothing above changed anything
    writer.upsert(1, data[1])
    with pytest.raises(ValueError, match="reserved"):
        writer.delete_many([1, ann.NO_KEY])  # refused whole: key 1 stays
    assert keys_of(index) == [1]


def test_a_directory_of_another_dim_or_metric_is_a_value_error(writer, data):
    writer.upsert(1, data[1])
    writer.close()
    with pytest.raises(ValueError, match="holds euclidean vectors of dim 8, not euclidean of dim 9"):
        ann.Writer(writer.path, 9, "euclidean")
    with pytest.raises(ValueError, match="not angular of dim 8"):
        ann.Writer(writer.path, DIM, "angular")
    with pytest.raises(OSError, match="holds a euclidean index of dimension 8"):
        AnnoyIndex(9, "euclidean").load(writer.path)


def test_bad_writer_options_are_errors(tmp_path):
    path = tmp_path / "live"
    for kwargs, error, message in (
        ({"durability": "fast"}, ValueError, "durability must be 'sync' or 'timer'"),
        ({"flush_ms": 0}, ValueError, "flush_ms must be between 1 and 60000, got 0"),
        ({"flush_ms": 60001}, ValueError, "flush_ms must be between 1 and 60000"),
        ({"flush_ms": -1}, ValueError, "flush_ms must be between 1 and 60000, got -1"),
        ({"flush_ms": 2**32 + 5}, ValueError, "flush_ms must be between 1 and 60000"),
        ({"n_trees": 0}, ValueError, "n_trees must be -1 or at least 1"),
        ({"n_trees": -2}, ValueError, "n_trees must be -1 or at least 1"),
        ({"n_trees": 2**40}, OverflowError, "signed integer is greater than maximum"),
        ({"graph": 257}, ValueError, "degree 257 is above the largest, 256"),
        ({"graph": 0}, ValueError, "graph must be True, False or a degree between 1 and 256, got 0"),
        ({"graph": -1}, ValueError, "a degree between 1 and 256, got -1"),
        ({"graph": 2**32}, ValueError, "a degree between 1 and 256, got 4294967296"),
        ({"graph": 16.0}, TypeError, "graph must be a bool or an int degree, not float"),
        ({"graph": None}, TypeError, "graph must be a bool or an int degree, not NoneType"),
        ({"graph": "yes"}, TypeError, "graph must be a bool or an int degree, not str"),
    ):
        with pytest.raises(error, match=message):
            ann.Writer(path, DIM, "euclidean", **kwargs)
    with pytest.raises(ValueError, match="f must be at least 1"):
        ann.Writer(path, 0, "euclidean")
    with pytest.raises(ValueError, match="No such metric"):
        ann.Writer(path, DIM, "cityblock")
    with pytest.raises(TypeError):
        ann.Writer(path, DIM, None)
    with pytest.raises(TypeError):
        ann.Writer(path, DIM, "euclidean", "timer")  # the options are keywords
    with pytest.raises(ValueError, match="NUL"):
        ann.Writer("live\0x", DIM, "euclidean")
    assert not path.exists()  # no failed open made the directory
    (tmp_path / "file").write_bytes(b"x")
    with pytest.raises(OSError):
        ann.Writer(tmp_path / "file", DIM, "euclidean")


def test_open_of_something_that_is_not_an_index_is_an_os_error(tmp_path):
    with pytest.raises(OSError, match="no MANIFEST"):
        ann.open(tmp_path)
    with pytest.raises(OSError, match="No such file"):
        ann.open(tmp_path / "missing")
    with pytest.raises(OSError):
        AnnoyIndex(3, "euclidean").load(str(tmp_path))  # a plain directory, as before
    with pytest.raises(ValueError, match="NUL"):
        ann.open("x\0y")


# -- after close --------------------------------------------------------------------------


def test_a_closed_writer_raises_value_error_and_its_index_stays_usable(writer, data):
    writer.upsert(1, data[1])
    index = writer.index()
    writer.close()
    writer.close()
    assert "closed" in repr(writer)
    for call in (
        lambda: writer.upsert(2, data[2]),
        lambda: writer.upsert_many([2], data[2:3]),
        lambda: writer.delete(1),
        lambda: writer.delete_many([1]),
        lambda: writer.sync(),
        lambda: writer.compact(),
        lambda: writer.index(),
    ):
        with pytest.raises(ValueError, match="this Writer is closed"):
            call()
    assert index.search(data[1], 5) == [1]
    assert index.refresh() is False
    index.close()
    with pytest.raises(ValueError, match="closed"):
        index.refresh()
    with pytest.raises(ValueError, match="closed"):
        index.export("x.ann")


def test_close_waits_for_a_running_compaction(writer, data, monkeypatch):
    writer.upsert_many(range(300), data)
    compact, started = _native.lib.ann_compact, threading.Event()

    def spy_compact(handle, n_threads):
        started.set()
        return compact(handle, n_threads)

    monkeypatch.setattr(_native.lib, "ann_compact", spy_compact)
    thread = threading.Thread(target=writer.compact, args=(1,))
    thread.start()
    assert started.wait(timeout=30)
    writer.close()  # waits for the compaction, then frees the writer
    thread.join()
    assert ann.open(writer.path).get_n_trees() == 5


def test_a_writer_cannot_be_pickled_but_its_index_pickles_as_a_reader(writer, data):
    writer.upsert_many(range(10), data[:10])
    with pytest.raises(TypeError, match="cannot be pickled"):
        pickle.dumps(writer)
    copy = pickle.loads(pickle.dumps(writer.index()))
    assert "live=" in repr(copy) and keys_of(copy) == list(range(10))
    writer.upsert(10, data[10])
    assert copy.refresh() is True and copy.get_n_stored() == 11


# -- read handles: what AnnoyIndex does on them -------------------------------------------


def test_read_handles_refuse_changes_with_clear_errors(writer, data):
    writer.upsert_many(range(10), data[:10])
    for index in (writer.index(), ann.open(writer.path)):
        assert (index.f, index.metric) == (DIM, "euclidean")
        added = "You can't add an item to a loaded index: .*upsert through its writer"
        with pytest.raises(Exception, match=added):
            index.add_item(20, data[0])
        with pytest.raises(Exception, match="You can't build a loaded index"):
            index.build(2)
        with pytest.raises(OSError, match="cannot save a live index: .*export"):
            index.save(str(Path(writer.path).parent / "x.ann"))
        with pytest.raises(OSError, match="cannot save_annoy a live index"):
            index.save_annoy(str(Path(writer.path).parent / "x.annoy"))
        assert index.get_n_stored() == 10  # unchanged by the failed calls


def test_export_writes_one_file_that_open_and_load_read(writer, data, tmp_path):
    index = writer.index()
    with pytest.raises(OSError, match="no items to export"):
        index.export(tmp_path / "empty.ann")
    writer.upsert_many(range(100), data[:100])
    writer.delete(4)
    assert index.export(tmp_path / "one.ann") is True
    exported = ann.open(tmp_path / "one.ann")
    assert "file=" in repr(exported) and exported.get_n_trees() == 5
    assert keys_of(exported) == keys_of(index)
    assert exported.get_item_vector(99) == data[99].tolist()
    assert exported.refresh() is False  # a file never changes
    assert ann.file_info(tmp_path / "one.ann").kind == "native"
    loaded = AnnoyIndex(DIM, "euclidean")
    loaded.load(str(tmp_path / "one.ann"))
    assert loaded.search(data[7], 3) == exported.search(data[7], 3)
    with pytest.raises(OSError):
        index.export("")
    # export of an ordinary index: a built one as it is, an unbuilt one is an error
    plain = AnnoyIndex(DIM, "euclidean")
    plain.add_item(0, data[0])
    with pytest.raises(OSError, match="not built"):
        plain.export(tmp_path / "plain.ann")
    plain.build(2)
    plain.export(tmp_path / "plain.ann")
    assert ann.open(tmp_path / "plain.ann").get_item_vector(0) == data[0].tolist()
    assert plain.refresh() is False


def test_load_of_a_live_directory_reads_it_like_open(writer, data):
    writer.upsert_many(range(20), data[:20])
    index = AnnoyIndex(DIM, "euclidean")
    assert index.load(writer.path) is True
    assert keys_of(index) == list(range(20)) and "live=" in repr(index)
    writer.delete(0)
    assert index.refresh() is True and keys_of(index) == list(range(1, 20))
    assert index.unload() is True and index.get_n_stored() == 0


def test_upserted_numpy_rows_reach_c_without_a_copy(writer, data, monkeypatch):
    seen = {}
    upsert, batch = _native.lib.ann_upsert, _native.lib.ann_upsert_batch

    def spy_upsert(handle, key, vector):
        seen["upsert"] = ctypes.addressof(vector)
        return upsert(handle, key, vector)

    def spy_batch(handle, keys, vectors, n):
        seen["keys"] = ctypes.cast(keys, ctypes.c_void_p).value
        seen["batch"] = ctypes.cast(vectors, ctypes.c_void_p).value
        return batch(handle, keys, vectors, n)

    monkeypatch.setattr(_native.lib, "ann_upsert", spy_upsert)
    monkeypatch.setattr(_native.lib, "ann_upsert_batch", spy_batch)
    rows = np.ascontiguousarray(data[:50])
    keys = np.arange(50, dtype=np.uint64)
    writer.upsert(3, rows[3])
    assert seen["upsert"] == rows[3].ctypes.data
    writer.upsert_many(keys, rows)
    assert (seen["keys"], seen["batch"]) == (keys.ctypes.data, rows.ctypes.data)
    assert writer.index().get_n_stored() == 50


# -- a reader in another process ----------------------------------------------------------

READER = """
import json, sys
import ann
path, dim = sys.argv[1], int(sys.argv[2])
reader = ann.open(path)
for line in sys.stdin:
    command = line.split()
    if command[0] == "state":
        keys = sorted(reader.search([0.0] * dim, 10**6))
        answer = {
            "keys": keys,
            "n_stored": reader.get_n_stored(),
            "n_trees": reader.get_n_trees(),
            "v7": reader.get_item_vector(7) if 7 in keys else None,
            "near": reader.search([float(x) for x in command[1:]], 5, search_k=10**6),
        }
    elif command[0] == "refresh":
        answer = {"changed": reader.refresh()}
    elif command[0] == "writer":
        try:
            ann.Writer(path, dim, "euclidean")
            answer = {"error": None}
        except Exception as error:
            answer = {"error": type(error).__name__, "message": str(error)}
    print(json.dumps(answer), flush=True)
"""


def test_a_reader_in_another_process_follows_writes_and_compactions(writer, data):
    mine = writer.index()
    writer.upsert_many(range(100), data[:100])
    writer.delete(5)
    query = data[200]
    child = subprocess.Popen(
        [sys.executable, "-c", READER, writer.path, str(DIM)],
        env=child_env(),
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )

    def ask(command: str) -> dict:
        child.stdin.write(command + "\n")
        child.stdin.flush()
        line = child.stdout.readline()
        assert line, f"the reader died: {child.stderr.read()}"
        return json.loads(line)

    def state() -> dict:
        return ask("state " + " ".join(map(str, query.tolist())))

    def expected() -> dict:
        keys = keys_of(mine)
        return {
            "keys": keys,
            "n_stored": len(keys),
            "n_trees": mine.get_n_trees(),
            "v7": mine.get_item_vector(7) if 7 in keys else None,
            "near": mine.search(query, 5, search_k=EVERYTHING),
        }

    try:
        seen = state()  # everything acknowledged before the child opened the directory
        assert seen == expected() and seen["n_stored"] == 99 and 5 not in seen["keys"]

        writer.upsert_many(range(100, 150), data[100:150])
        writer.upsert(7, data[200])
        writer.delete(10)
        assert state() == seen  # a reader changes only when it refreshes
        assert ask("refresh") == {"changed": True}
        seen = state()
        assert seen == expected() and seen["n_stored"] == 148 and seen["near"][0] == 7
        assert seen["v7"] == data[200].tolist()
        assert ask("refresh") == {"changed": False}

        writer.compact(1)  # replaces the segment files the child maps
        writer.upsert(500, data[201])
        writer.delete(0)
        assert state() == seen  # still answering from the old files
        assert ask("refresh") == {"changed": True}
        seen = state()
        assert seen == expected() and seen["n_trees"] == 5
        assert 500 in seen["keys"] and 0 not in seen["keys"] and seen["n_stored"] == 148

        refused = ask("writer")  # the directory has one writer, whichever process asks
        assert refused["error"] == "RuntimeError" and "already open for writing" in refused["message"]
    finally:
        child.stdin.close()
        assert child.wait(timeout=30) == 0, child.stderr.read()
        child.stdout.close()
        child.stderr.close()
