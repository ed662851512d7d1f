"""Graph search: ``build_graph``, ``has_graph``, ``ef`` of the search calls, and the graph
in saved files and pickles."""

from __future__ import annotations

import pickle

import numpy as np
import pytest
from support import build, dataset, nearest_first, true_distances

from ann import AnnoyIndex, SearchOptions

N, DIM = 2000, 16


@pytest.fixture(scope="module")
def data():
    return dataset("angular", N, DIM, seed=11)


@pytest.fixture(scope="module")
def queries():
    return dataset("angular", 20, DIM, seed=12)


@pytest.fixture
def graph(data):
    index = build("angular", data, n_trees=5)
    assert not index.has_graph()
    assert index.build_graph() is True
    return index


def truth(data: np.ndarray, query: np.ndarray, n: int = 10) -> list:
    return nearest_first("angular", true_distances("angular", data, query))[:n].tolist()


def test_a_graph_search_finds_the_true_neighbours(graph, data, queries):
    assert graph.has_graph()
    recalls = [len(set(graph.search(q, 10, ef=200)) & set(truth(data, q))) / 10 for q in queries]
    assert np.mean(recalls) >= 0.95, recalls


def test_ef_reaches_every_search_form(graph, data, queries):
    expected = [graph.search(q, 10, ef=200) for q in queries]
    with SearchOptions(ef=200) as options:
        assert options.ef == 200 and "ef=200" in repr(options)
        assert [graph.search(q, 10, options) for q in queries] == expected
        rows = graph.search_batch(queries, 10, options, n_threads=2)
    assert rows.tolist() == expected
    assert graph.search_batch(queries, 10, ef=200).tolist() == expected
    assert graph.search_by_item(3, 10, ef=200)[0] == 3
    ids, distances = graph.search(queries[0], 10, ef=200, include_distances=True)
    assert ids == expected[0] and distances == sorted(distances)
    # Filters still return min(n, accepted) results, every one accepted.
    allowed = list(range(0, N, 7))
    found = graph.search(queries[0], 10, ef=50, allow=allowed)
    assert len(found) == 10 and set(found) <= set(allowed)
    assert SearchOptions().ef == 0  # derived from search_k


def test_the_graph_is_saved_and_loaded(graph, queries, tmp_path):
    path = str(tmp_path / "graph.ann")
    before = [graph.search(q, 10, ef=200) for q in queries]
    graph.save(path)
    assert graph.has_graph()
    loaded = AnnoyIndex(DIM, "angular")
    loaded.load(path)
    assert loaded.has_graph()
    assert [loaded.search(q, 10, ef=200) for q in queries] == before
    assert loaded.verify()
    assert pickle.loads(pickle.dumps(loaded)).has_graph()  # by path: the file has the graph


def test_a_graph_added_to_a_loaded_index_pickles_with_it(data, tmp_path):
    path = str(tmp_path / "forest.ann")
    build("angular", data, n_trees=5).save(path)
    index = AnnoyIndex(DIM, "angular")
    index.load(path)
    assert not index.has_graph()
    index.build_graph(degree=16, n_jobs=2)
    assert index.has_graph()
    copy = pickle.loads(pickle.dumps(index))  # by value: the file lacks the graph
    assert copy.has_graph()
    assert copy.search(data[0], 5, ef=100) == index.search(data[0], 5, ef=100)
    index.unload()
    assert not index.has_graph()


def test_one_seed_gives_one_graph_whatever_the_threads(data, queries):
    one, many = build("angular", data, n_trees=5), build("angular", data, n_trees=5)
    one.build_graph(n_jobs=1)
    many.build_graph(n_jobs=-1)
    assert [one.search(q, 10, ef=64) for q in queries] == [many.search(q, 10, ef=64) for q in queries]


def test_bad_arguments_are_value_errors(graph):
    with pytest.raises(ValueError, match="degree 1000") as caught:
        graph.build_graph(1000)
    assert caught.value.ann_status == "ANN_STATUS_INVALID_ARGUMENT"
    for n_jobs in (0, -2):
        with pytest.raises(ValueError, match="n_threads"):
            graph.build_graph(n_jobs=n_jobs)
    with pytest.raises(ValueError, match="degree"):
        graph.build_graph(-1)
    with pytest.raises(OverflowError):
        graph.build_graph(2**40)  # never truncated to 32 bits
    with pytest.raises(ValueError, match="ef"):
        graph.search([0.0] * DIM, 10, ef=-1)
    with pytest.raises(TypeError):
        graph.search([0.0] * DIM, 10, ef=1.5)
    with pytest.raises(TypeError, match="not both"), SearchOptions() as options:
        graph.search([0.0] * DIM, 10, options, ef=10)
    assert graph.has_graph()  # the failed calls left the graph alone


def test_the_wrong_state_is_annoys_exception(data, tmp_path):
    unbuilt = AnnoyIndex(DIM, "angular")
    unbuilt.add_item(0, data[0])
    with pytest.raises(Exception, match="not built") as caught:
        unbuilt.build_graph()
    assert type(caught.value) is Exception
    assert caught.value.ann_status == "ANN_STATUS_INVALID_STATE"
    assert not unbuilt.has_graph()
    paths = []
    for part in (0, 1):
        shard = AnnoyIndex(DIM, "angular")
        for i in range(part, 100, 2):
            shard.add_item(i, data[i])
        shard.build(2)
        paths.append(str(tmp_path / f"part{part}.ann"))
        shard.save(paths[-1])
    sharded = AnnoyIndex(DIM, "angular")
    sharded.load_shards(paths)
    with pytest.raises(Exception, match="shard") as caught:
        sharded.build_graph()
    assert type(caught.value) is Exception
    unbuilt.close()
    with pytest.raises(ValueError, match="closed"):
        unbuilt.build_graph()
    with pytest.raises(ValueError, match="closed"):
        unbuilt.has_graph()


def test_indexes_without_a_graph_ignore_ef(data, queries):
    forest = build("angular", data, n_trees=5)
    assert [forest.search(q, 10, ef=1) for q in queries] == [forest.search(q, 10) for q in queries]
