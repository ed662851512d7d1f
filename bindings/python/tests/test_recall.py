"""Every metric against brute force: with a large search_k the index finds the true neighbours
and reports their true distances."""

from __future__ import annotations

import numpy as np
import pytest
from support import METRICS, build, dataset, nearest_first, true_distances

N, DIM, K = 1000, 24, 10


@pytest.mark.parametrize("metric", METRICS)
def test_recall_against_brute_force(metric):
    dim = 64 if metric == "hamming" else DIM
    data = dataset(metric, N, dim, seed=1)
    queries = dataset(metric, 50, dim, seed=2)
    index = build(metric, data, n_trees=10)
    hits = 0
    for query in queries:
        truth = true_distances(metric, data, query)
        ids, dists = index.get_nns_by_vector(query, K, search_k=N * 10, include_distances=True)
        assert len(ids) == K
        # Reported distances are the true ones, in order.
        np.testing.assert_allclose(dists, truth[ids], rtol=1e-4, atol=1e-4)
        assert dists == sorted(dists, reverse=(metric == "dot"))
        # Recall by distance, so that ties at the cut-off (common for hamming) count as hits.
        kth = truth[nearest_first(metric, truth)[K - 1]]
        if metric == "dot":
            hits += int(np.sum(truth[ids] >= kth - 1e-4))
        else:
            hits += int(np.sum(truth[ids] <= kth + 1e-4))
    recall = hits / (K * len(queries))
    assert recall >= 0.99, f"{metric}: recall {recall}"


@pytest.mark.parametrize("metric", [m for m in METRICS if m != "dot"])
def test_an_item_is_its_own_nearest_neighbour(metric):
    dim = 64 if metric == "hamming" else DIM
    data = dataset(metric, 200, dim, seed=3)
    index = build(metric, data)
    for i in range(0, 200, 11):
        ids, dists = index.get_nns_by_item(i, 1, include_distances=True)
        assert dists[0] == 0.0
        if metric != "hamming":  # random bit vectors may repeat
            assert ids == [i]


def test_default_search_k_recall_is_reasonable():
    data = dataset("angular", N, DIM, seed=4)
    index = build("angular", data, n_trees=20)
    hits = 0
    for query in dataset("angular", 50, DIM, seed=5):
        truth = nearest_first("angular", true_distances("angular", data, query))[:K]
        hits += len(set(truth) & set(index.get_nns_by_vector(query, K)))
    assert hits / (K * 50) >= 0.5
