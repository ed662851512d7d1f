"""load_shards: several index files searched as one read-only index."""

from __future__ import annotations

import pickle

import numpy as np
import pytest
from support import dataset

from ann import AnnoyIndex, SearchOptions

N, DIM, TREES, SHARDS = 900, 8, 5, 3
KEYS = [p * 2**33 + 11 for p in range(N - 1)] + [2**63 + 1]  # sparse, one past 2**63


def build(keys, rows, dim=DIM, metric="euclidean", seed=9):
    index = AnnoyIndex(dim, metric)
    index.set_seed(seed)
    for key, row in zip(keys, rows):
        index.add_item(key, row)
    index.build(TREES)
    return index


@pytest.fixture(scope="module")
def data():
    return dataset("euclidean", N, DIM, seed=31)


@pytest.fixture(scope="module")
def paths(data, tmp_path_factory):
    """One file per shard: keys dealt round-robin, so every shard spans the key range."""
    directory = tmp_path_factory.mktemp("shards")
    paths = []
    for s in range(SHARDS):
        index = build(KEYS[s::SHARDS], data[s::SHARDS], seed=s)
        paths.append(str(directory / f"shard{s}.ann"))
        index.save(paths[-1])
    return paths


@pytest.fixture(scope="module")
def whole(data):
    return build(KEYS, data)


@pytest.fixture
def sharded(paths):
    index = AnnoyIndex(DIM, "euclidean")
    assert index.load_shards(paths) is True
    return index


def test_counts(sharded):
    assert sharded.get_n_items() == KEYS[-1] + 1  # the largest key + 1 over the shards
    assert sharded.get_n_stored() == N
    assert sharded.get_n_trees() == SHARDS * TREES
    assert "shards=" in repr(sharded)


def test_results_equal_one_index_holding_every_item(sharded, whole, data):
    everything = N * SHARDS * TREES * 4
    queries = dataset("euclidean", 10, DIM, seed=32)
    for query in queries:
        expected = whole.get_nns_by_vector(query, 10, search_k=everything, include_distances=True)
        assert sharded.get_nns_by_vector(query, 10, search_k=everything, include_distances=True) == expected
        assert sharded.search(query, 10, search_k=everything, include_distances=True) == expected
    for key in (KEYS[0], KEYS[1], KEYS[500], KEYS[-1]):
        expected = whole.get_nns_by_item(key, 10, search_k=everything, include_distances=True)
        assert sharded.get_nns_by_item(key, 10, search_k=everything, include_distances=True) == expected
        assert sharded.search_by_item(key, 10, search_k=everything, include_distances=True) == expected
    accepted = KEYS[::7]
    with SearchOptions(search_k=everything, allow=accepted, filter=lambda k: k % 2 == 1) as options:
        for query in queries[:3]:
            assert sharded.search(query, 20, options) == whole.search(query, 20, options)
        batch = sharded.search_batch(queries, 20, options, n_threads=2, include_distances=True)
        expected = whole.search_batch(queries, 20, options, n_threads=2, include_distances=True)
        assert batch[0].dtype == np.uint64  # a key past 2**63
        assert np.array_equal(batch[0], expected[0]) and np.array_equal(batch[1], expected[1])
    ids = sharded.get_nns_by_vectors(queries, 10, search_k=everything)
    assert np.array_equal(ids, whole.get_nns_by_vectors(queries, 10, search_k=everything))


def test_items_are_found_in_their_shard(sharded, whole, data):
    for p in (0, 1, 2, 450, N - 1):
        assert sharded.get_item_vector(KEYS[p]) == data[p].tolist()
    assert sharded.get_distance(KEYS[0], KEYS[1]) == whole.get_distance(KEYS[0], KEYS[1])
    with pytest.raises(IndexError, match="never added to any shard"):
        sharded.get_item_vector(KEYS[0] + 1)


def test_prefault_and_pathlike_paths(paths):
    import pathlib

    index = AnnoyIndex(DIM, "euclidean")
    index.load_shards([pathlib.Path(p) for p in paths], prefault=True)
    assert index.get_n_stored() == N
    index.load_shards(p.encode() for p in paths[:1])  # any iterable; replaces the shards
    assert index.get_n_stored() == N // SHARDS


def test_a_sharded_index_is_read_only(sharded, tmp_path):
    with pytest.raises(OSError, match="^ann_save: cannot save a sharded index"):
        sharded.save(str(tmp_path / "all.ann"))
    with pytest.raises(OSError, match="^ann_save_annoy: cannot save_annoy a sharded index"):
        sharded.save_annoy(str(tmp_path / "all.annoy"))
    with pytest.raises(Exception, match="^You can't add an item to a loaded index"):
        sharded.add_item(5, [0] * DIM)
    with pytest.raises(Exception, match="^You can't build a loaded index"):
        sharded.build(2)
    assert sharded.verify() is True
    assert sharded.unload() is True
    assert (sharded.get_n_stored(), repr(sharded).count("shards")) == (0, 0)


def test_bad_shard_sets_are_clear_errors(paths, data, tmp_path):
    other_dim = build(range(5), dataset("euclidean", 5, DIM + 1), dim=DIM + 1)
    other_dim.save(str(tmp_path / "dim9.ann"))
    other_metric = build(range(5), data[:5], metric="angular")
    other_metric.save(str(tmp_path / "angular.ann"))
    index = AnnoyIndex(DIM, "euclidean")
    with pytest.raises(ValueError, match="ann_open_shards: .*at least one index file"):
        index.load_shards([])
    with pytest.raises(ValueError, match="shards must share metric and dimension"):
        index.load_shards([paths[0], str(tmp_path / "dim9.ann")])
    with pytest.raises(ValueError, match="shards must share metric and dimension"):
        index.load_shards([paths[0], str(tmp_path / "angular.ann")])
    with pytest.raises(ValueError, match=f"key {KEYS[0]} is in both .*keys must not repeat"):
        index.load_shards([paths[0], paths[1], paths[0]])
    with pytest.raises(OSError, match="cannot open .*missing.ann"):
        index.load_shards([paths[0], str(tmp_path / "missing.ann")])
    with pytest.raises(OSError, match="empty path"):
        index.load_shards([paths[0], ""])
    with pytest.raises(TypeError, match="list of paths"):
        index.load_shards(paths[0])  # one path, not a list of them
    with pytest.raises(ValueError, match="NUL"):
        index.load_shards([paths[0] + "\0"])
    # Shards that agree with each other but not with this index: as load says it.
    mismatch = r"holds a euclidean index of dimension 8.*use AnnoyIndex\(8, 'euclidean'\)"
    with pytest.raises(OSError, match=mismatch):
        AnnoyIndex(DIM + 1, "euclidean").load_shards(paths)
    # A failed load_shards leaves the index as it was.
    index.add_item(0, data[0])
    index.build(1)
    with pytest.raises(ValueError):
        index.load_shards([paths[0], paths[0]])
    assert index.get_nns_by_item(0, 1) == [0]


def test_pickling_reopens_the_shards(sharded):
    clone = pickle.loads(pickle.dumps(sharded))
    assert clone.get_n_stored() == N and clone.get_n_trees() == SHARDS * TREES
    assert clone.get_nns_by_item(KEYS[3], 5) == sharded.get_nns_by_item(KEYS[3], 5)


def test_a_closed_index_cannot_load_shards(paths):
    index = AnnoyIndex(DIM, "euclidean")
    index.close()
    with pytest.raises(ValueError, match="closed"):
        index.load_shards(paths)
