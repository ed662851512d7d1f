"""What a Python loop of single queries costs against the same queries run in C.

    python3 bench/python_loop.py --data ../shared/data/dev --metric angular --trees 50

Builds (or with --index, loads) an index through the Python binding, finds the smallest
search_k of the sweep that reaches recall@10 0.90, then times, in rounds that alternate so
machine noise hits both alike:
  * a Python loop calling ``get_nns_by_vector`` once per float32 numpy row;
  * the same queries in one ``get_nns_by_vectors(..., n_threads=1)`` call, which loops in C
    over the same search (no Python between queries).
Prints both QPS and the loop's share of the C speed (the target is at least 0.90).
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time

import numpy as np

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(ROOT, "bindings", "python"))
import ann  # noqa: E402  (the binding of this checkout)


def recall(found: np.ndarray, truth: np.ndarray) -> float:
    hits = sum(len(set(f[f >= 0]) & set(t[:10])) for f, t in zip(found, truth))
    return hits / (10 * len(truth))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", default=os.path.join(ROOT, "..", "shared", "data", "dev"))
    parser.add_argument("--metric", default="angular")
    parser.add_argument("--trees", type=int, default=50)
    parser.add_argument("--index", help="an index file to load instead of building one")
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()

    queries = np.load(os.path.join(args.data, "query.npy")).astype(np.float32)
    truth = np.load(os.path.join(args.data, f"gt_{args.metric}_ids.npy"))
    f = queries.shape[1]
    index = ann.AnnoyIndex(f, args.metric)
    with tempfile.TemporaryDirectory() as tmp:
        path = args.index
        if path is None:
            base = np.load(os.path.join(args.data, "base.npy")).astype(np.float32)
            for i, v in enumerate(base):
                index.add_item(i, v)
            index.build(args.trees)
            path = os.path.join(tmp, "python_loop.ann")
            index.save(path)
            index.unload()
        index.load(path)
        search_k = None
        for k in (1000, 2000, 3000, 4000, 6000, 8000, 12000, 16000):
            if recall(index.get_nns_by_vectors(queries, 10, search_k=k, n_threads=1), truth) >= 0.90:
                search_k = k
                break
        if search_k is None:
            print("recall 0.90 not reached below search_k 16000")
            return 1
        rows = [queries[i] for i in range(len(queries))]  # float32 rows, passed without copies
        loop_best = batch_best = 0.0
        for _ in range(args.rounds):
            start = time.perf_counter()
            for row in rows:
                index.get_nns_by_vector(row, 10, search_k)
            loop_best = max(loop_best, len(rows) / (time.perf_counter() - start))
            start = time.perf_counter()
            index.get_nns_by_vectors(queries, 10, search_k=search_k, n_threads=1)
            batch_best = max(batch_best, len(rows) / (time.perf_counter() - start))
        print(
            f"{args.metric}, {args.trees} trees, search_k {search_k} (recall@10 >= 0.90): "
            f"Python loop {loop_best:.0f} QPS, C loop {batch_best:.0f} QPS, "
            f"loop / C = {loop_best / batch_best:.3f}"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
