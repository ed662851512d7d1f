"""Reference recall figures of Spotify's Annoy 1.17.3.

Why this exists
---------------
The Rust reimplementation's tests assert that its recall is "at least what
Annoy reaches".  This script produces those reference numbers with the real
Annoy, on data that the Rust test can regenerate byte for byte: the data come
from a SplitMix64 generator whose arithmetic is fully specified below (u64
wrap-around, Box-Muller with the sine part discarded, values cast to float32).

What it measures
----------------
For each metric (angular, euclidean, manhattan, dot, hamming):

* data: ``SplitMix64(42)``; 3000 base vectors, then 200 query vectors, from one
  stream.  Float metrics use dim 24 (gaussian() cast to float32); hamming uses
  128 bits, bit = 1.0 if gaussian() > 0 else 0.0.
* exact ground truth by brute force in float64 on the float32 values.
* for seeds 1..10: ``set_seed(seed)``, add items 0..2999, ``build(20, n_jobs=1)``,
  ``get_nns_by_vector(q, 10)`` with the default search_k (-1, i.e. 10 * 20).
* once more (seed 1) with search_k = 3000 * 20, which should give recall 1.0.

Recall@10 with tie tolerance: let t be the 10th best true distance of a query
(for dot, the 10th largest inner product); a returned id is a hit if its true
distance <= t + 1e-6 (dot: inner product >= t - 1e-6).  Recall = hits / 10,
averaged over the 200 queries.

How to run
----------
    pip install annoy==1.17.3 numpy
    python3 tests/reference/annoy_recall.py
"""

import math

import numpy as np
from annoy import AnnoyIndex

MASK64 = (1 << 64) - 1

SEED = 42
N_BASE = 3000
N_QUERY = 200
FLOAT_DIM = 24
HAMMING_DIM = 128
N_TREES = 20
K = 10
TIE_EPS = 1e-6
INDEX_SEEDS = range(1, 11)
FULL_SEARCH_K = N_BASE * N_TREES


class SplitMix64:
    """SplitMix64 on unsigned 64-bit integers with wrap-around."""

    def __init__(self, state):
        self.state = state & MASK64

    def next(self):
        self.state = (self.state + 0x9E3779B97F4A7C15) & MASK64
        z = self.state
        z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & MASK64
        z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & MASK64
        return z ^ (z >> 31)

    def uniform(self):
        """float64 in [0, 1) from the top 53 bits."""
        return (self.next() >> 11) * 2.0**-53

    def gaussian(self):
        """One Box-Muller value per call (the sine part is discarded)."""
        u1 = self.uniform()
        u2 = self.uniform()
        if u1 < 1e-300:
            u1 = 1e-300
        return math.sqrt(-2.0 * math.log(u1)) * math.cos(2.0 * math.pi * u2)


def make_float_data(dim):
    """Base then queries, each vector `dim` consecutive gaussians as float32."""
    rng = SplitMix64(SEED)
    values = [rng.gaussian() for _ in range((N_BASE + N_QUERY) * dim)]
    data = np.array(values, dtype=np.float64).astype(np.float32)
    data = data.reshape(N_BASE + N_QUERY, dim)
    return data[:N_BASE], data[N_BASE:]


def make_hamming_data(dim):
    """Same stream order; a bit is 1.0 if gaussian() > 0 else 0.0."""
    rng = SplitMix64(SEED)
    values = [1.0 if rng.gaussian() > 0 else 0.0
              for _ in range((N_BASE + N_QUERY) * dim)]
    data = np.array(values, dtype=np.float32).reshape(N_BASE + N_QUERY, dim)
    return data[:N_BASE], data[N_BASE:]


def true_scores(metric, base, query):
    """Exact score of every base item for one query, in float64.

    For dot this is the inner product (larger is better); for every other
    metric it is a distance (smaller is better).
    """
    b = base.astype(np.float64)
    q = query.astype(np.float64)
    if metric == "angular":
        return 1.0 - (b @ q) / (np.linalg.norm(b, axis=1) * np.linalg.norm(q))
    if metric == "euclidean":
        return np.sqrt(((b - q) ** 2).sum(axis=1))
    if metric == "manhattan":
        return np.abs(b - q).sum(axis=1)
    if metric == "dot":
        return b @ q
    if metric == "hamming":
        return (b != q).sum(axis=1).astype(np.float64)
    raise ValueError(metric)


def recall_at_k(metric, truth, queries, results):
    """Mean recall@K with tie tolerance over all queries."""
    total = 0.0
    for scores, ids in zip(truth, results):
        hits = 0
        if metric == "dot":
            t = np.sort(scores)[::-1][K - 1]
            hits = sum(1 for i in ids if scores[i] >= t - TIE_EPS)
        else:
            t = np.sort(scores)[K - 1]
            hits = sum(1 for i in ids if scores[i] <= t + TIE_EPS)
        total += hits / K
    return total / len(queries)


def build_index(metric, dim, base, seed):
    index = AnnoyIndex(dim, metric)
    index.set_seed(seed)
    for i, v in enumerate(base):
        index.add_item(i, v.tolist())
    index.build(N_TREES, n_jobs=1)
    return index


def query_all(index, queries, search_k):
    return [index.get_nns_by_vector(q.tolist(), K, search_k=search_k)
            for q in queries]


def main():
    float_base, float_queries = make_float_data(FLOAT_DIM)
    ham_base, ham_queries = make_hamming_data(HAMMING_DIM)

    print("Annoy reference recall@%d (n=%d, queries=%d, trees=%d, seeds %d..%d)"
          % (K, N_BASE, N_QUERY, N_TREES, INDEX_SEEDS[0], INDEX_SEEDS[-1]))
    print("float data (dim %d): base[0][:3] = %r"
          % (FLOAT_DIM, [float(x) for x in float_base[0][:3]]))
    print("float data (dim %d): query[0][:3] = %r"
          % (FLOAT_DIM, [float(x) for x in float_queries[0][:3]]))
    print("hamming data (dim %d): base[0][:16] = %s"
          % (HAMMING_DIM, "".join(str(int(x)) for x in ham_base[0][:16])))
    print()
    print("%-10s %9s %9s %9s %12s" % ("metric", "mean", "min", "max", "full_search"))

    for metric in ("angular", "euclidean", "manhattan", "dot", "hamming"):
        if metric == "hamming":
            dim, base, queries = HAMMING_DIM, ham_base, ham_queries
        else:
            dim, base, queries = FLOAT_DIM, float_base, float_queries
        truth = [true_scores(metric, base, q) for q in queries]

        recalls = []
        for seed in INDEX_SEEDS:
            index = build_index(metric, dim, base, seed)
            results = query_all(index, queries, -1)
            recalls.append(recall_at_k(metric, truth, queries, results))

        index = build_index(metric, dim, base, INDEX_SEEDS[0])
        full = recall_at_k(metric, truth, queries,
                           query_all(index, queries, FULL_SEARCH_K))

        print("%-10s %9.5f %9.5f %9.5f %12.5f"
              % (metric, sum(recalls) / len(recalls), min(recalls),
                 max(recalls), full))


if __name__ == "__main__":
    main()
