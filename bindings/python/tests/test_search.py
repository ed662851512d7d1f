"""Filtered search: SearchOptions, search, search_by_item and search_batch.

The guarantee under test: a search returns exactly min(n, stored items the filter accepts)
results, every one accepted, nearest first, whatever the selectivity; with search_k covering
everything they are the exact filtered answer.
"""

from __future__ import annotations

import copy
import ctypes
import gc
import pickle
import threading
import time
import weakref

import numpy as np
import pytest
from support import assert_same_neighbours, dataset

import ann.index
from ann import AnnoyIndex, SearchOptions, _native, _threads

N, DIM, TREES = 2000, 8, 10
KEYS = [p * 2**40 + 3 for p in range(N)]  # sparse keys: the filters see keys, not slots
EVERYTHING = N * TREES * 4  # a search_k that covers every item
RNG = np.random.default_rng(5)
SELECTIVITIES = {
    "1 item": KEYS[1234:1235],
    "0.1%": sorted(RNG.choice(KEYS, 2, replace=False).tolist()),
    "10%": sorted(RNG.choice(KEYS, 200, replace=False).tolist()),
    "100%": KEYS,
}


@pytest.fixture(scope="module")
def data():
    return dataset("euclidean", N, DIM, seed=21)


@pytest.fixture(scope="module")
def index(data):
    index = AnnoyIndex(DIM, "euclidean")
    index.set_seed(3)
    for key, row in zip(KEYS, data):
        index.add_item(key, row)
    index.build(TREES)
    return index


@pytest.fixture(scope="module")
def queries():
    return dataset("euclidean", 24, DIM, seed=22)


POSITION = {key: p for p, key in enumerate(KEYS)}


def assert_exact(found, data, query, accepted, n):
    """``found`` (ids, distances) is the exact filtered answer: the ``n`` accepted keys
    nearest to ``query``, up to ties (float32 distances may order near-ties differently)."""
    distances = {k: float(np.linalg.norm(data[POSITION[k]].astype(np.float64) - query)) for k in accepted}
    ids = sorted(accepted, key=lambda k: (distances[k], k))[:n]
    assert_same_neighbours(found[0], found[1], ids, [distances[k] for k in ids])


def filters(accepted):
    """The same filter as an allow-list, a deny-list and a predicate."""
    allowed = set(accepted)
    return {
        "allow": {"allow": accepted},
        "deny": {"deny": [k for k in KEYS if k not in allowed]},
        "predicate": {"filter": allowed.__contains__},
    }


def check(ids, distances, accepted, n):
    assert len(ids) == min(n, len(accepted))
    assert set(ids) <= set(accepted)
    assert len(set(ids)) == len(ids)
    assert distances == sorted(distances)
    assert all(type(i) is int for i in ids)


# -- the guarantee ------------------------------------------------------------------------


@pytest.mark.parametrize("selectivity", list(SELECTIVITIES))
@pytest.mark.parametrize("kind", ["allow", "deny", "predicate"])
def test_filters_return_exactly_min_n_accepted(index, data, queries, selectivity, kind):
    accepted = SELECTIVITIES[selectivity]
    settings = filters(accepted)[kind]
    for n in (10, len(accepted) + 7):  # fewer than accepted, and more than accepted
        for query in queries[:3]:
            ids, distances = index.search(query, n, include_distances=True, **settings)
            check(ids, distances, accepted, n)
            with SearchOptions(search_k=EVERYTHING, **settings) as options:
                ids, distances = index.search(query, n, options, include_distances=True)
            check(ids, distances, accepted, n)
            assert_exact((ids, distances), data, query, accepted, n)


@pytest.mark.parametrize("selectivity", ["1 item", "10%"])
def test_search_by_item_filters_too(index, data, selectivity):
    accepted = SELECTIVITIES[selectivity]
    inside, outside = accepted[0], next(k for k in KEYS if k not in set(accepted))
    for key in (inside, outside):
        ids, distances = index.search_by_item(key, 5, allow=accepted, include_distances=True)
        check(ids, distances, accepted, 5)
        found = index.search_by_item(key, 5, allow=accepted, search_k=EVERYTHING, include_distances=True)
        assert_exact(found, data, data[POSITION[key]], accepted, 5)
    assert index.search_by_item(inside, 1, allow=accepted) == [inside]  # the item itself first


def test_filters_combine(index, data, queries):
    allow = SELECTIVITIES["10%"]
    deny = allow[:50]
    accepted = [k for k in allow[50:] if (k >> 40) % 2 == 0]
    with SearchOptions(EVERYTHING, allow=allow, deny=deny, filter=lambda k: (k >> 40) % 2 == 0) as options:
        assert options.search_k == EVERYTHING
        for query in queries[:3]:
            ids, distances = index.search(query, 1000, options, include_distances=True)
            check(ids, distances, accepted, 1000)
            assert_exact((ids, distances), data, query, accepted, 1000)


def test_no_filter_searches_everything_and_always_fills_n(index, data, queries):
    assert len(index.search(queries[0], 50)) == 50
    found = index.search(queries[0], 10, search_k=EVERYTHING, include_distances=True)
    assert_exact(found, data, queries[0], KEYS, 10)
    assert len(index.search(queries[0], 5000)) == N  # n past the item count
    assert index.search(queries[0], 0) == []
    empty = SearchOptions(allow=[])  # an empty allow-list accepts nothing
    assert index.search(queries[0], 10, empty) == []
    assert index.search(queries[0], 10, deny=[]) == index.search(queries[0], 10)  # denies nothing
    assert index.search(queries[0], 10, allow=[1, 2, 2**63]) == []  # keys not in the index


def test_key_lists_in_every_form_give_the_same_answer(index, queries):
    accepted = SELECTIVITIES["10%"]
    expected = index.search(queries[0], 10, allow=accepted)
    for form in (
        np.array(accepted, dtype=np.uint64),
        np.array(accepted, dtype=np.int64),
        np.array(accepted, dtype=np.uint64)[::-1],  # not contiguous: copied
        tuple(accepted),
        set(accepted),
        (k for k in accepted),
        [np.uint64(k) for k in accepted],
        accepted + accepted,  # repeats are ignored
    ):
        assert index.search(queries[0], 10, allow=form) == expected
    small = AnnoyIndex(2, "euclidean")
    for key in range(10):
        small.add_item(key, [key, 0])
    small.build(2)
    assert small.search([0, 0], 3, allow=np.array([9, 4, 7], dtype=np.int32)) == [4, 7, 9]
    assert small.search([0, 0], 3, allow=range(5, 8)) == [5, 6, 7]


# -- batches and threads -----------------------------------------------------------------


def test_batch_rows_equal_single_searches_and_the_predicate_runs_on_native_threads(index, queries):
    accepted = set(SELECTIVITIES["10%"])
    threads = set()

    def accept(key):
        threads.add(threading.get_ident())
        return key in accepted

    with SearchOptions(filter=accept) as options:
        ids, distances = index.search_batch(queries, 10, options, n_threads=4, include_distances=True)
        assert ids.dtype == np.int64 and ids.shape == distances.shape == (len(queries), 10)
        assert threading.get_ident() not in threads  # libann's own threads called it
        assert len(threads) >= 2
        for q, query in enumerate(queries):
            single_ids, single_distances = index.search(query, 10, options, include_distances=True)
            assert ids[q].tolist() == single_ids
            assert distances[q].tolist() == single_distances
    rows = index.search_batch(queries, 500, allow=sorted(accepted)[:3], n_threads=2)
    assert rows.shape == (len(queries), 3)  # min(n, accepted) columns


def thread_states() -> int:
    """How many Python thread states the interpreter has (C API, through ctypes)."""
    api = ctypes.pythonapi
    api.PyInterpreterState_Head.restype = ctypes.c_void_p
    api.PyInterpreterState_ThreadHead.restype = ctypes.c_void_p
    api.PyInterpreterState_ThreadHead.argtypes = [ctypes.c_void_p]
    api.PyThreadState_Next.restype = ctypes.c_void_p
    api.PyThreadState_Next.argtypes = [ctypes.c_void_p]
    state, count = api.PyInterpreterState_ThreadHead(api.PyInterpreterState_Head()), 0
    while state:
        state, count = api.PyThreadState_Next(state), count + 1
    return count


@pytest.mark.skipif(_threads._api is None, reason="needs glibc's __cxa_thread_atexit_impl")
def test_worker_threads_keep_one_thread_state_and_free_it_when_they_exit(index, queries):
    """A filter called on libann's worker threads runs in a thread state kept for the
    thread's life (not one made per call), and each is freed when its thread exits."""
    kept = []

    def accept(key):
        kept.append(_threads.kept.done)
        return True

    before = thread_states()
    for _ in range(30):
        index.search_batch(queries, 3, filter=accept, n_threads=4)
    assert thread_states() == before
    assert kept and all(kept)
    kept.clear()
    index.search(queries[0], 3, filter=accept)
    assert kept and not any(kept)  # never the calling thread's


def test_batch_without_numpy_returns_lists(index, queries, monkeypatch):
    expected = index.search_batch(queries[:4], 5, allow=SELECTIVITIES["10%"], include_distances=True)
    monkeypatch.setattr(ann.index, "_np", None)
    ids, distances = index.search_batch(
        queries[:4].tolist(), 5, allow=SELECTIVITIES["10%"], include_distances=True
    )
    assert ids == expected[0].tolist() and distances == expected[1].tolist()
    assert index.search_batch([], 5) == []


def test_batch_edge_shapes(index, queries):
    assert index.search_batch(np.empty((0, DIM), dtype=np.float32), 5).shape == (0, 5)
    assert index.search_batch(queries[:3], 5, allow=[]).shape == (3, 0)
    with pytest.raises(IndexError, match="wrong length"):
        index.search_batch(queries[:, :3], 5)
    with pytest.raises(ValueError, match="n_threads"):
        index.search_batch(queries, 5, n_threads=0)


def test_threads_share_one_options_object(index, queries):
    accepted = set(SELECTIVITIES["10%"])
    options = SearchOptions(filter=accepted.__contains__, search_k=100)
    expected = [index.search(q, 10, options) for q in queries[:6]]
    errors = []

    def worker():
        try:
            for _ in range(2):
                assert [index.search(q, 10, options) for q in queries[:6]] == expected
                assert index.search_batch(queries[:6], 10, options, n_threads=2).tolist() == expected
        except BaseException as e:  # reported below
            errors.append(e)

    workers = [threading.Thread(target=worker) for _ in range(3)]
    for w in workers:
        w.start()
    for w in workers:
        w.join()
    assert not errors, errors


# -- exceptions inside the predicate -------------------------------------------------------


class Boom(Exception):
    pass


def test_an_exception_in_the_predicate_is_raised_after_the_search(index, queries):
    seen = []

    def accept(key):
        seen.append(key)
        raise Boom(key)

    with SearchOptions(filter=accept) as options:
        with pytest.raises(Boom) as raised:
            index.search(queries[0], 10, options)
        assert raised.value.args == (seen[0],)  # the first one, not a later one
        assert len(seen) > 1  # the search went on, refusing every key
        with pytest.raises(Boom):
            index.search_by_item(KEYS[0], 10, options)
        with pytest.raises(Boom):
            index.search_batch(queries[:3], 10, options, n_threads=3)
    # The index is unharmed.
    assert len(index.search(queries[0], 10, filter=lambda key: True)) == 10


def test_a_predicate_failing_on_some_keys_refuses_them(index, queries):
    def accept(key):
        if (key >> 40) % 3 == 0:
            raise Boom("no multiples of 3")
        return True

    with pytest.raises(Boom):
        index.search(queries[0], 10, filter=accept)
    bad = {"value": 0}

    def odd(key):
        bad["value"] += 1
        return "yes" if (key >> 40) % 2 else ""  # any truthy value accepts

    ids = index.search(queries[0], 10, filter=odd)
    assert len(ids) == 10 and all((k >> 40) % 2 for k in ids) and bad["value"] > 0


def test_keyboard_interrupt_in_the_predicate_is_raised_after_the_search(index, queries):
    def accept(key):
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        index.search(queries[0], 3, filter=accept)
    with pytest.raises(KeyboardInterrupt):
        index.search_batch(queries[:4], 3, filter=accept, n_threads=2)


def test_each_thread_gets_only_its_own_exceptions(index, queries):
    """One options object shared by threads: only the thread whose searches raise sees it."""

    def accept(key):
        if threading.current_thread().name == "bad":
            raise Boom(threading.current_thread().name)
        return True

    options = SearchOptions(filter=accept)
    outcomes = {}

    def worker():
        name = threading.current_thread().name
        results = []
        for query in queries:
            try:
                results.append(len(index.search(query, 5, options)))
            except Boom as e:
                results.append(e.args[0])
        outcomes[name] = results

    workers = [threading.Thread(target=worker, name=name) for name in ("good1", "bad", "good2")]
    for w in workers:
        w.start()
    for w in workers:
        w.join()
    assert outcomes["bad"] == ["bad"] * len(queries)
    assert outcomes["good1"] == outcomes["good2"] == [5] * len(queries)


# -- searching inside the predicate ---------------------------------------------------------


def test_the_predicate_may_search(index, queries):
    def accept(key):
        return index.search_by_item(key, 1, search_k=1) == [key]

    assert len(index.search(queries[0], 5, filter=accept)) == 5


def test_a_search_inside_the_predicate_passes_a_waiting_close(data, queries):
    """close() waits for the running search; the filter's own nested search must not queue
    behind that close (it would wait for itself forever)."""
    index = AnnoyIndex(DIM, "euclidean")
    for key, row in zip(KEYS[:300], data[:300]):
        index.add_item(key, row)
    index.build(3)
    closer = threading.Thread(target=index.close)
    state = {"nested": None}

    def accept(key):
        if state["nested"] is None:
            state["nested"] = []
            closer.start()
            while not index._lock._writers_waiting:  # the close is now waiting
                time.sleep(0.001)
            state["nested"] = index.search(queries[1], 3)
        return True

    searcher = threading.Thread(target=lambda: index.search(queries[0], 3, filter=accept))
    searcher.start()
    searcher.join(timeout=10)
    closer.join(timeout=10)
    assert not searcher.is_alive() and not closer.is_alive(), "deadlock"
    assert len(state["nested"]) == 3
    with pytest.raises(ValueError, match="closed"):
        index.search(queries[0], 3)


def test_options_cannot_be_closed_or_batched_from_inside_their_filter(index, queries):
    holder = {}

    def closes(key):
        holder["options"].close()
        return True

    holder["options"] = SearchOptions(filter=closes)
    with pytest.raises(RuntimeError, match="inside their own filter"):
        index.search(queries[0], 3, holder["options"])
    assert len(index.search(queries[0], 3, SearchOptions())) == 3

    def batches(key):
        index.search_batch(queries[:2], 1, holder["batch"], n_threads=1)
        return True

    holder["batch"] = SearchOptions(filter=batches)
    with pytest.raises(RuntimeError, match="cannot run search_batch with the same SearchOptions"):
        index.search_batch(queries[:2], 1, holder["batch"], n_threads=1)


# -- the options object ------------------------------------------------------------------


def test_options_after_close_are_a_clear_error(index, queries):
    options = SearchOptions(allow=KEYS[:10], filter=lambda key: True)
    assert "allow=<10 keys>" in repr(options)
    options.close()
    options.close()  # twice is harmless
    assert repr(options) == "<SearchOptions closed>"
    for call in (
        lambda: index.search(queries[0], 3, options),
        lambda: index.search_by_item(KEYS[0], 3, options),
        lambda: index.search_batch(queries, 3, options),
    ):
        with pytest.raises(ValueError, match="SearchOptions are closed"):
            call()
    with SearchOptions(search_k=10) as scoped:
        assert len(index.search(queries[0], 3, scoped)) == 3
    with pytest.raises(ValueError, match="closed"):
        index.search(queries[0], 3, scoped)


def test_closing_options_while_threads_search_with_them(index, queries):
    """close() waits for the searches using the options; later ones get the closed error."""
    options = SearchOptions(allow=SELECTIVITIES["10%"], filter=lambda key: True)
    outcomes = []

    def worker():
        for query in queries:
            try:
                outcomes.append(len(index.search(query, 5, options)))
                outcomes.append(index.search_batch(queries[:4], 5, options, n_threads=2).shape)
            except ValueError as e:
                outcomes.append(str(e))

    workers = [threading.Thread(target=worker) for _ in range(3)]
    for w in workers:
        w.start()
    time.sleep(0.01)
    options.close()
    for w in workers:
        w.join()
    assert set(outcomes) <= {5, (4, 5), "these SearchOptions are closed: create new ones"}


def test_options_and_their_predicate_are_freed_by_the_garbage_collector(index, queries):
    def make():
        def accept(key):
            return True

        return SearchOptions(filter=accept), weakref.ref(accept)

    options, predicate = make()
    index.search(queries[0], 3, options)
    del options
    gc.collect()
    assert predicate() is None
    for _ in range(200):  # __del__ frees the native handles
        SearchOptions(allow=KEYS[:100], filter=lambda key: True)
    gc.collect()


def test_options_are_not_copied_or_pickled():
    options = SearchOptions()
    for action in (pickle.dumps, copy.copy, copy.deepcopy):
        with pytest.raises(TypeError, match="cannot be pickled or copied"):
            action(options)


def test_bad_arguments(index, queries):
    query = queries[0]
    with pytest.raises(TypeError, match="not both"):
        index.search(query, 3, SearchOptions(), search_k=5)
    with pytest.raises(TypeError, match="options must be SearchOptions"):
        index.search(query, 3, {"search_k": 5})
    with pytest.raises(TypeError, match="callable"):
        SearchOptions(filter=5)
    with pytest.raises(TypeError, match="iterable of int keys"):
        SearchOptions(allow="abc")
    with pytest.raises(TypeError, match="iterable of int keys"):
        SearchOptions(deny=5)
    with pytest.raises(TypeError, match=r"allow\[1\] is float"):
        SearchOptions(allow=[1, 2.5])
    with pytest.raises(TypeError, match="integer keys"):
        SearchOptions(allow=np.array([1.0, 2.0]))
    with pytest.raises(ValueError, match=r"deny\[0\] is -1"):
        SearchOptions(deny=[-1])
    with pytest.raises(ValueError, match="negative key -3"):
        SearchOptions(allow=np.array([1, -3]))
    with pytest.raises(ValueError, match="2\\*\\*64"):
        SearchOptions(allow=[2**64])
    with pytest.raises(ValueError, match="search_k must be -1"):
        SearchOptions(search_k=-2)
    with pytest.raises(OverflowError):
        SearchOptions(search_k=2**63)
    with pytest.raises(TypeError):
        SearchOptions(search_k=1.5)
    with pytest.raises(ValueError, match="n must be at least 0"):
        index.search(query, -1)
    with pytest.raises(IndexError, match="wrong length"):
        index.search(query[:3], 3)
    with pytest.raises(ValueError, match="ann_search: .*NaN"):
        index.search([float("nan")] * DIM, 3)
    with pytest.raises(IndexError, match="^Item index larger than the largest item index$"):
        index.search_by_item(KEYS[-1] + 1, 3)
    with pytest.raises(IndexError, match="never added"):
        index.search_by_item(KEYS[0] + 1, 3)
    unbuilt = AnnoyIndex(DIM, "euclidean")
    unbuilt.add_item(0, query)
    with pytest.raises(Exception, match="ann_search: the index is not built"):
        unbuilt.search(query, 3)


# -- passing vectors to C --------------------------------------------------------------


def test_float32_rows_reach_c_without_a_copy(index, queries, monkeypatch):
    """search passes a float32 row's own memory, search_batch the matrix's own memory."""
    seen = {}
    search, batch = _native.lib.ann_search, _native.lib.ann_search_batch

    def spy_search(handle, query, *rest):
        seen["search"] = ctypes.addressof(query)
        return search(handle, query, *rest)

    def spy_batch(handle, matrix, *rest):
        seen["batch"] = ctypes.cast(matrix, ctypes.c_void_p).value
        return batch(handle, matrix, *rest)

    monkeypatch.setattr(_native.lib, "ann_search", spy_search)
    monkeypatch.setattr(_native.lib, "ann_search_batch", spy_batch)
    rows = np.ascontiguousarray(queries, dtype=np.float32)
    index.search(rows[3], 5, filter=lambda key: True)
    assert seen["search"] == rows[3].ctypes.data
    index.search_batch(rows, 5, allow=KEYS[:50])
    assert seen["batch"] == rows.ctypes.data
