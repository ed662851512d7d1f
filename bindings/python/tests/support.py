"""Shared test helpers: data, brute-force ground truth, and a tie-aware result comparison."""

from __future__ import annotations

import math
from typing import Sequence

import numpy as np

from ann import AnnoyIndex

METRICS = ["angular", "euclidean", "manhattan", "dot", "hamming"]


def dataset(metric: str, n: int, dim: int, seed: int = 0) -> np.ndarray:
    """``n`` random vectors: 0/1 values for hamming, Gaussian otherwise."""
    rng = np.random.default_rng(seed)
    if metric == "hamming":
        return (rng.random((n, dim)) > 0.5).astype(np.float32)
    return rng.standard_normal((n, dim)).astype(np.float32)


def build(metric: str, data: np.ndarray, n_trees: int = 10, seed: int = 42) -> AnnoyIndex:
    index = AnnoyIndex(data.shape[1], metric)
    index.set_seed(seed)
    for i, row in enumerate(data):
        index.add_item(i, row)
    index.build(n_trees)
    return index


def true_distances(metric: str, data: np.ndarray, query: np.ndarray) -> np.ndarray:
    """Every item's distance to ``query`` as the index reports it (float64)."""
    x, q = data.astype(np.float64), np.asarray(query, dtype=np.float64)
    if metric == "angular":
        cos = x @ q / (np.linalg.norm(x, axis=1) * np.linalg.norm(q))
        return np.sqrt(np.maximum(2 - 2 * cos, 0))
    if metric == "euclidean":
        return np.linalg.norm(x - q, axis=1)
    if metric == "manhattan":
        return np.abs(x - q).sum(axis=1)
    if metric == "dot":
        return x @ q
    if metric == "hamming":
        return ((x > 0.5) != (q > 0.5)).sum(axis=1).astype(np.float64)
    raise ValueError(metric)


def nearest_first(metric: str, distances: np.ndarray) -> np.ndarray:
    """Ids sorted nearest first: the largest inner product first for dot."""
    return np.argsort(-distances if metric == "dot" else distances, kind="stable")


def close(a: float, b: float, rel: float = 1e-5) -> bool:
    """Equal within ``rel`` relative, with a tiny absolute floor for values near 0 (where a
    relative test is meaningless: a dot product of 1e-8 vs 2e-8 is float rounding)."""
    return math.isclose(a, b, rel_tol=rel, abs_tol=1e-6)


def assert_same_neighbours(
    ids_a: Sequence[int],
    dist_a: Sequence[float],
    ids_b: Sequence[int],
    dist_b: Sequence[float],
    rel: float = 1e-5,
) -> int:
    """Asserts two result lists are the same up to ties, and returns how many positions differ.

    The distances must agree position by position within ``rel``. Where the ids differ, the
    difference must be a tie: an id at position p of one list sits in the other list at a
    position with the same distance (the two orders broke a tie differently), or is absent
    from it and has the same distance as its last entry (a tie at the cut-off).
    """
    ids_a, ids_b = list(ids_a), list(ids_b)
    assert len(ids_a) == len(ids_b), f"lengths differ: {ids_a} vs {ids_b}"
    for p, (x, y) in enumerate(zip(dist_a, dist_b)):
        assert close(x, y, rel), f"distance at position {p}: {x} vs {y}\n{ids_a}\n{ids_b}"
    differing = [p for p in range(len(ids_a)) if ids_a[p] != ids_b[p]]
    for ids, dists, other_ids, other_dists in (
        (ids_a, dist_a, ids_b, dist_b),
        (ids_b, dist_b, ids_a, dist_a),
    ):
        where = {item: q for q, item in enumerate(other_ids)}
        for p in differing:
            item = ids[p]
            tied_with = other_dists[where[item]] if item in where else other_dists[-1]
            assert close(dists[p], tied_with, rel), (
                f"id {item} at position {p} (distance {dists[p]}) is not a tie\n{ids_a} {list(dist_a)}\n"
                f"{ids_b} {list(dist_b)}"
            )
    return len(differing)


def max_relative_difference(dist_a: Sequence[float], dist_b: Sequence[float]) -> float:
    worst = 0.0
    for x, y in zip(dist_a, dist_b):
        scale = max(abs(x), abs(y))
        if scale > 0:
            worst = max(worst, abs(x - y) / scale)
    return worst
