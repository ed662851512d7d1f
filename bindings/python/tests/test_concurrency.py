"""Threads, fork, batch queries, and the native handle's life: close, context manager, __del__."""

from __future__ import annotations

import gc
import multiprocessing
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pytest
from support import METRICS, build, dataset

import ann.index
from ann import AnnoyIndex

DIM = 16


@pytest.fixture(scope="module")
def data():
    return dataset("angular", 2000, DIM, seed=11)


@pytest.fixture(scope="module")
def queries():
    return dataset("angular", 400, DIM, seed=12)


@pytest.fixture
def index(data):
    return build("angular", data)


# -- batch queries -----------------------------------------------------------------------


@pytest.mark.parametrize("metric", METRICS)
@pytest.mark.parametrize("n_threads", [1, 3, -1])
def test_batch_equals_single_queries(metric, n_threads):
    dim = 64 if metric == "hamming" else DIM
    data = dataset(metric, 500, dim, seed=1)
    queries = dataset(metric, 60, dim, seed=2)
    index = build(metric, data)
    ids, dists = index.get_nns_by_vectors(queries, 10, n_threads=n_threads, include_distances=True)
    assert ids.dtype == np.int64 and dists.dtype == np.float32 and ids.shape == dists.shape == (60, 10)
    for q, query in enumerate(queries):
        single_ids, single_dists = index.get_nns_by_vector(query, 10, include_distances=True)
        assert ids[q].tolist() == single_ids
        assert dists[q].tolist() == single_dists
    assert np.array_equal(
        index.get_nns_by_vectors(queries, 10, search_k=50),
        np.stack([index.get_nns_by_vector(q, 10, search_k=50) for q in queries]),
    )


def test_batch_pads_missing_results_with_minus_one_and_nan():
    index = AnnoyIndex(2, "euclidean")
    for i in (0, 1, 4):  # 5 slots, 3 items
        index.add_item(i, [i, 0])
    index.build(2)
    ids, dists = index.get_nns_by_vectors([[0, 0], [4, 0]], 10, include_distances=True)
    assert ids.shape == (2, 5)  # never wider than the number of item slots
    assert ids.tolist() == [[0, 1, 4, -1, -1], [4, 1, 0, -1, -1]]
    assert np.isnan(dists[:, 3:]).all()


def test_batch_accepts_lists_and_any_dtype(index, queries):
    expected = index.get_nns_by_vectors(queries[:5], 4)
    assert np.array_equal(index.get_nns_by_vectors(queries[:5].tolist(), 4), expected)
    assert np.array_equal(index.get_nns_by_vectors(queries[:5].astype(np.float64), 4), expected)
    assert index.get_nns_by_vectors(np.empty((0, DIM)), 4).shape == (0, 4)
    assert index.get_nns_by_vectors([], 4).shape == (0, 4)


def test_batch_errors(index, queries):
    with pytest.raises(IndexError, match=r"Vector has wrong length \(expected 16, got 15\)"):
        index.get_nns_by_vectors(queries[:, :15], 3)
    with pytest.raises(ValueError, match="2-D"):
        index.get_nns_by_vectors(queries[0], 3)
    with pytest.raises(ValueError, match="ann_get_nns_batch: .*n_threads"):
        index.get_nns_by_vectors(queries, 3, n_threads=0)
    bad = queries[:3].copy()
    bad[1, 2] = np.nan
    with pytest.raises(ValueError, match="ann_get_nns_batch"):
        index.get_nns_by_vectors(bad, 3)


def test_batch_without_numpy_returns_lists(index, queries, monkeypatch):
    expected_ids, expected_dists = index.get_nns_by_vectors(queries[:8], 5, include_distances=True)
    rows = queries[:8].tolist()
    monkeypatch.setattr(ann.index, "_np", None)
    ids, dists = index.get_nns_by_vectors(rows, 5, include_distances=True)
    assert ids == expected_ids.tolist()
    assert dists == expected_dists.tolist()
    assert index.get_nns_by_vectors(rows, 5) == expected_ids.tolist()
    # Single queries and adding work without numpy too.
    assert index.get_nns_by_vector(rows[0], 5) == expected_ids[0].tolist()
    with pytest.raises(IndexError, match="wrong length"):
        index.get_nns_by_vectors([rows[0][:3]], 5)


def test_batch_without_numpy_trims_short_rows(monkeypatch):
    monkeypatch.setattr(ann.index, "_np", None)
    index = AnnoyIndex(1, "euclidean")
    for i in (0, 2):
        index.add_item(i, [i])
    index.build(1)
    assert index.get_nns_by_vectors([[0], [2]], 5, include_distances=True) == (
        [[0, 2], [2, 0]],
        [[0.0, 2.0], [0.0, 2.0]],
    )


# -- threads -----------------------------------------------------------------------------


def test_eight_threads_querying_one_index_match_serial_results(index, queries):
    serial = [index.get_nns_by_vector(q, 10, include_distances=True) for q in queries]
    barrier = threading.Barrier(8)

    def worker(offset):
        barrier.wait()  # start together, so the calls really overlap
        out = {}
        for round_ in range(3):
            for q in range(offset, len(queries), 8):
                out[q] = index.get_nns_by_vector(queries[q], 10, include_distances=True)
                if round_ == 0:
                    index.get_nns_by_item(q, 5)
        return out

    with ThreadPoolExecutor(8) as pool:
        results = {}
        for part in pool.map(worker, range(8)):
            results.update(part)
    assert [results[q] for q in range(len(queries))] == serial


def test_queries_release_the_gil(data):
    """A Python thread keeps running while a long query runs in C: only possible if the
    call released the GIL (with the GIL held, no bytecode runs until the call returns)."""
    index = build("angular", data)
    many = dataset("angular", 1000, DIM, seed=3)
    count = [0]
    stop = threading.Event()

    def spin():
        while not stop.is_set():
            count[0] += 1

    spinner = threading.Thread(target=spin)
    spinner.start()
    try:
        time.sleep(0.01)
        before = count[0]
        index.get_nns_by_vectors(many, 50, search_k=10000, n_threads=1)
        during = count[0] - before
    finally:
        stop.set()
        spinner.join()
    assert during > 1000, f"the spinning thread advanced only {during} times during the query"


def test_close_waits_for_running_queries(data):
    """close() in one thread while others query: no crash, queries either finish or get the
    closed error."""
    index = build("angular", data)
    queries = dataset("angular", 200, DIM, seed=5)
    errors = []
    stop = threading.Event()

    def worker():
        while not stop.is_set():
            try:
                index.get_nns_by_vectors(queries, 10, n_threads=1)
            except ValueError as e:
                errors.append(str(e))
                return

    threads = [threading.Thread(target=worker) for _ in range(4)]
    for t in threads:
        t.start()
    time.sleep(0.05)
    index.close()
    stop.set()
    for t in threads:
        t.join()
    assert all("closed" in e for e in errors)


# -- fork --------------------------------------------------------------------------------

_INHERITED = None  # the parent's loaded index, inherited by forked children


def _child_query(q):
    index, queries = _INHERITED
    single = index.get_nns_by_vector(queries[q], 10, include_distances=True)
    batch_ids = index.get_nns_by_vectors(queries[q : q + 2], 10, n_threads=2).tolist()
    return single, batch_ids


@pytest.mark.skipif(
    sys.platform == "win32" or "fork" not in multiprocessing.get_all_start_methods(), reason="needs fork"
)
def test_forked_children_query_the_inherited_index(index, queries, tmp_path):
    global _INHERITED
    index.save(str(tmp_path / "f.ann"))
    loaded = AnnoyIndex(DIM, "angular")
    loaded.load(str(tmp_path / "f.ann"))
    _INHERITED = (loaded, queries)
    expected = [
        (
            loaded.get_nns_by_vector(queries[q], 10, include_distances=True),
            loaded.get_nns_by_vectors(queries[q : q + 2], 10).tolist(),
        )
        for q in range(40)
    ]
    try:
        with multiprocessing.get_context("fork").Pool(2) as pool:
            assert pool.map(_child_query, range(40)) == expected
    finally:
        _INHERITED = None


# -- the native handle -------------------------------------------------------------------


def test_context_manager_closes(data):
    with AnnoyIndex(DIM, "angular") as index:
        index.add_item(0, data[0])
        index.build(1)
        assert index.get_nns_by_item(0, 1) == [0]
    assert "closed" in repr(index)
    for call in (
        lambda: index.get_nns_by_item(0, 1),
        lambda: index.get_n_items(),
        lambda: index.add_item(1, data[1]),
        lambda: index.load("x"),
        lambda: index.get_nns_by_vectors(data[:2], 1),
    ):
        with pytest.raises(ValueError, match="this AnnoyIndex is closed"):
            call()
    index.close()  # closing twice is harmless
    assert index.f == DIM


def test_exceptions_inside_the_with_block_propagate_and_close():
    with pytest.raises(KeyError), AnnoyIndex(2, "angular") as index:
        raise KeyError("boom")
    with pytest.raises(ValueError, match="closed"):
        index.get_n_items()


def test_many_indexes_are_freed_by_the_garbage_collector(data, tmp_path):
    index = build("angular", data[:100])
    index.save(str(tmp_path / "g.ann"))
    for _ in range(300):
        other = AnnoyIndex(DIM, "angular")
        other.load(str(tmp_path / "g.ann"))
        other.get_nns_by_item(0, 3)
        del other
    gc.collect()


def test_a_failed_constructor_is_collected_cleanly():
    with pytest.raises(ValueError):
        AnnoyIndex(0, "angular")
    gc.collect()
