"""64-bit keys: any int from 0 to 2**64 - 2 as an id, through every call, file and pickle."""

from __future__ import annotations

import hashlib
import pickle

import numpy as np
import pytest
from support import dataset

import ann
from ann import AnnoyIndex

DIM = 8
# Sparse keys of every kind: past 2**31, past 2**63, string hashes, and small ones.
SPARSE = [0, 7, 2**31 - 1, 2**31, 2**40, 2**63 - 1, 2**63, 2**63 + 5, 2**64 - 2] + [
    int.from_bytes(hashlib.sha256(f"document {n}".encode()).digest()[:8], "little") for n in range(291)
]


def sparse_index(metric: str = "euclidean", keys=SPARSE, seed: int = 7) -> "tuple[AnnoyIndex, np.ndarray]":
    data = dataset(metric, len(keys), DIM, seed=seed)
    index = AnnoyIndex(DIM, metric)
    index.set_seed(1)
    for key, row in zip(keys, data):
        index.add_item(key, row)
    return index, data


def exact_neighbours(data: np.ndarray, keys, query: np.ndarray, n: int) -> list:
    distances = np.linalg.norm(data.astype(np.float64) - query, axis=1)
    order = sorted(range(len(keys)), key=lambda p: (distances[p], keys[p]))
    return [keys[p] for p in order[:n]]


def test_the_keys_are_distinct_and_valid():
    assert len(set(SPARSE)) == len(SPARSE) == 300
    assert max(SPARSE) == 2**64 - 2 == ann.NO_KEY - 1


def test_sparse_keys_round_trip_through_save_and_load(tmp_path):
    index, data = sparse_index()
    assert index.get_n_items() == 2**64 - 1  # the largest key + 1, as Annoy counts
    assert index.get_n_stored() == len(SPARSE)
    for key, row in zip(SPARSE, data):
        assert index.get_item_vector(key) == row.tolist()
    index.build(10)
    before = {key: index.get_nns_by_item(key, 5, search_k=10**6, include_distances=True) for key in SPARSE}
    path = tmp_path / "sparse.ann"
    index.save(str(path))
    loaded = AnnoyIndex(DIM, "euclidean")
    loaded.load(str(path))
    assert (loaded.get_n_items(), loaded.get_n_stored(), loaded.get_n_trees()) == (2**64 - 1, 300, 10)
    for p, (key, row) in enumerate(zip(SPARSE, data)):
        assert loaded.get_item_vector(key) == row.tolist()
        ids, distances = loaded.get_nns_by_item(key, 5, search_k=10**6, include_distances=True)
        assert (ids, distances) == before[key]
        assert ids == exact_neighbours(data, SPARSE, data[p], 5)  # search_k covers everything
        assert ids[0] == key and all(type(i) is int for i in ids)
    assert loaded.get_distance(2**63 + 5, 2**40) == pytest.approx(
        float(np.linalg.norm(data[SPARSE.index(2**63 + 5)] - data[SPARSE.index(2**40)])), rel=1e-5
    )
    ids = loaded.get_nns_by_vector(data[5], 3, search_k=10**6)
    assert ids[0] == SPARSE[5]


def test_a_key_never_added_is_an_index_error():
    index, _ = sparse_index()
    index.build(4)
    for call in (
        lambda: index.get_item_vector(2**40 + 1),
        lambda: index.get_distance(2**40, 12345),
        lambda: index.get_nns_by_item(2**63 + 6, 3),
        lambda: index.search_by_item(3, 3),
    ):
        with pytest.raises(IndexError, match="never added"):
            call()


def test_key_limits():
    index = AnnoyIndex(2, "euclidean")
    for bad, error in ((2**64 - 1, ann.IntegerOverflow), (2**64, OverflowError), (-1, IndexError)):
        for call in (
            lambda key: index.add_item(key, [1, 2]),
            index.get_item_vector,
            lambda key: index.get_distance(0, key),
            lambda key: index.get_nns_by_item(key, 1),
            lambda key: index.search_by_item(key, 1),
        ):
            with pytest.raises(error):
                call(bad)
    with pytest.raises(ValueError):  # the reserved key is a bad value too
        index.add_item(2**64 - 1, [1, 2])
    with pytest.raises(TypeError):
        index.add_item(2.0**40, [1, 2])
    index.add_item(np.uint64(2**64 - 2), [1, 2])  # numpy ints work through __index__
    assert index.get_item_vector(2**64 - 2) == [1.0, 2.0]


def test_n_stored_counts_items_and_n_items_keeps_annoys_meaning(tmp_path):
    index = AnnoyIndex(2, "euclidean")
    assert (index.get_n_items(), index.get_n_stored()) == (0, 0)
    for key in (0, 1, 2, 5):  # a hole at 3 and 4
        index.add_item(key, [key, 0])
    index.add_item(5, [6, 0])  # replacing counts once
    assert (index.get_n_items(), index.get_n_stored()) == (6, 4)
    index.build(2)
    index.save(str(tmp_path / "holes.ann"))
    assert (index.get_n_items(), index.get_n_stored()) == (6, 4)
    index.close()
    with pytest.raises(ValueError, match="closed"):
        index.get_n_stored()


def test_dense_keys_still_save_for_annoy_and_sparse_keys_say_why_not(tmp_path):
    dense = AnnoyIndex(2, "euclidean")
    for key in range(10):
        dense.add_item(key, [key, 1])
    dense.build(2)
    dense.save_annoy(str(tmp_path / "dense.annoy"))
    index, _ = sparse_index()
    index.build(2)
    with pytest.raises(OSError, match="^ann_save_annoy: .*do not fit Annoy's layout"):
        index.save_annoy(str(tmp_path / "sparse.annoy"))


def test_sparse_indexes_pickle_in_every_state(tmp_path):
    index, data = sparse_index()
    for state in ("unbuilt", "built", "loaded"):
        if state == "built":
            index.build(5)
        if state == "loaded":
            index.save(str(tmp_path / "p.ann"))
        clone = pickle.loads(pickle.dumps(index))
        assert clone.get_n_stored() == 300, state
        assert clone.get_item_vector(2**63 + 5) == data[SPARSE.index(2**63 + 5)].tolist()
        if state != "unbuilt":
            assert clone.get_nns_by_item(2**40, 5) == index.get_nns_by_item(2**40, 5)


def test_unbuilt_pickles_hold_each_key_once_after_replacing_and_unbuilding():
    index = AnnoyIndex(2, "euclidean")
    index.add_item(2**50, [1, 1])
    index.add_item(2**50, [2, 2])
    index.add_item(3, [3, 3])
    index.build(1)
    index.unbuild()
    clone = pickle.loads(pickle.dumps(index))
    assert clone.get_n_stored() == 2
    assert clone.get_item_vector(2**50) == [2.0, 2.0]
    clone.unload()
    assert pickle.loads(pickle.dumps(clone)).get_n_stored() == 0


def test_batch_ids_are_int64_unless_a_key_needs_uint64():
    small, data = sparse_index(keys=[k for k in SPARSE if k < 2**63])
    small.build(5)
    ids = small.get_nns_by_vectors(data[:3], 4)
    assert ids.dtype == np.int64 and (ids >= 0).all()
    assert small.search_batch(data[:3], 4).dtype == np.int64
    big, data = sparse_index()
    big.build(5)
    ids, distances = big.get_nns_by_vectors(data[:3], 4, search_k=10**6, include_distances=True)
    assert ids.dtype == np.uint64
    for q in range(3):
        assert ids[q].tolist() == big.get_nns_by_vector(data[q], 4, search_k=10**6)
    found = big.search_batch(data[:3], 4, search_k=10**6)
    assert found.dtype == np.uint64 and found.tolist() == ids.tolist()
    # The marker for a missing result is then NO_KEY, not -1.
    holes = AnnoyIndex(2, "euclidean")
    holes.add_item(2**63, [0, 0])
    holes.add_item(0, [1, 0])
    holes.build(1)
    ids = holes.get_nns_by_vectors([[0, 0]], 5)
    assert ids.dtype == np.uint64 and ids.tolist() == [[2**63, 0] + [ann.NO_KEY] * 3]
