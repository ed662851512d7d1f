#!/usr/bin/env python3
"""ann's graph against hnswlib, side by side in one process.

Builds hnswlib (M=16, ef_construction=200) and ann (a forest of 10 trees, then a graph of
the default degree) on the same data, and reports:
- build time with the given thread count, and the ratio;
- the saved files' sizes;
- recall@10 and single-thread queries/s at a range of ef, each the fastest of 3 passes,
  with the two libraries' curves measured one after the other;
- QPS at recall 0.90, 0.95 and 0.99, interpolated on each curve. Both libraries widen a
  beam narrower than n = 10 to n, so ef starts at 10; a library already above the target
  there is reported at that point;
- memory: each library's saved index loaded in a fresh process that then answers every query
  at ef 64; the peak resident set (VmHWM) less the process's size before the load, against
  the file's size. ann maps its file (only pages touched count, shared with other processes);
  hnswlib reads its file into the heap.

Both libraries are driven by a Python loop of single queries, so both pay the same call
overhead.

Usage: bench/graph_vs_hnswlib.py [--data DIR] [--metric angular|euclidean|dot] [--threads N]
Needs numpy and hnswlib (pip install hnswlib) and the built library (cargo build --release).
"""

import argparse
import itertools
import math
import os
import sys
import tempfile
import time

import numpy as np

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "bindings", "python"))
import ann
import hnswlib

SPACES = {"angular": "cosine", "euclidean": "l2", "dot": "ip"}
EFS = [10, 12, 16, 24, 32, 48, 64, 96, 128]


def recall(found, truth):
    return float(np.mean([len(set(ids) & set(t)) / 10 for ids, t in zip(found, truth)]))


def curve(search, queries, truth):
    points = []
    for ef in EFS:
        best, found = 0.0, []
        for _ in range(3):
            start = time.perf_counter()
            found = [search(q, ef) for q in queries]
            best = max(best, len(queries) / (time.perf_counter() - start))
        points.append((ef, recall(found, truth), best))
    return points


def qps_at(points, target):
    """QPS at `target` recall, log-linear between the bracketing points; None if unbracketed
    (a library whose smallest ef already exceeds the target is reported at that point)."""
    if points and points[0][1] >= target:
        return points[0][2]
    for (_, r0, q0), (_, r1, q1) in itertools.pairwise(points):
        if r0 < target <= r1:
            t = (target - r0) / (r1 - r0)
            return math.exp(math.log(q0) + t * (math.log(q1) - math.log(q0)))
    return None


def status_kb(field):
    with open("/proc/self/status") as f:
        return next(int(line.split()[1]) for line in f if line.startswith(field + ":"))


def peak_rss_child(library, path, queries_path, metric, dim):
    """In a fresh process: loads `path` with `library`, answers every query at ef 64 and prints
    the peak resident set's growth over the process before the load, in bytes."""
    queries = np.load(queries_path).astype(np.float32)
    before = status_kb("VmRSS")
    if library == "ann":
        index = ann.AnnoyIndex(dim, metric)
        index.load(path)
        for q in queries:
            index.search(q, 10, ef=64)
    else:
        index = hnswlib.Index(space=SPACES[metric], dim=dim)
        index.load_index(path)
        index.set_ef(64)
        index.set_num_threads(1)
        for q in queries:
            index.knn_query(q, k=10)
    print((status_kb("VmHWM") - before) * 1024)


def peak_rss(library, path, o, dim):
    import subprocess

    out = subprocess.run(
        [sys.executable, __file__, "--rss-child", library, path, "--data", o.data, "--metric", o.metric],
        capture_output=True,
        text=True,
        check=True,
    )
    return int(out.stdout.split()[-1])


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--data", default=os.path.join(os.path.dirname(__file__), "..", "..", "shared", "data", "dev")
    )
    parser.add_argument("--metric", default="angular", choices=sorted(SPACES))
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--rss-child", nargs=2, metavar=("LIBRARY", "PATH"), help=argparse.SUPPRESS)
    o = parser.parse_args()
    if o.rss_child:
        queries_path = os.path.join(o.data, "query.npy")
        dim = np.load(queries_path, mmap_mode="r").shape[1]
        return peak_rss_child(o.rss_child[0], o.rss_child[1], queries_path, o.metric, dim)
    base = np.load(os.path.join(o.data, "base.npy")).astype(np.float32)
    queries = np.load(os.path.join(o.data, "query.npy")).astype(np.float32)
    truth = np.load(os.path.join(o.data, f"gt_{o.metric}_ids.npy"))[:, :10]
    n, dim = base.shape
    work = tempfile.mkdtemp()

    h = hnswlib.Index(space=SPACES[o.metric], dim=dim)
    h.init_index(max_elements=n, M=16, ef_construction=200, random_seed=100)
    h.set_num_threads(o.threads)
    start = time.perf_counter()
    h.add_items(base, np.arange(n))
    h_build = time.perf_counter() - start
    h.save_index(os.path.join(work, "h.bin"))
    h.set_num_threads(1)

    a = ann.AnnoyIndex(dim, o.metric)
    for i in range(n):
        a.add_item(i, base[i])
    start = time.perf_counter()
    a.build(10, n_jobs=o.threads)
    forest = time.perf_counter() - start
    start = time.perf_counter()
    a.build_graph(0, n_jobs=o.threads)
    graph = time.perf_counter() - start
    path = os.path.join(work, "a.ann")
    a.save(path)
    loaded = ann.AnnoyIndex(dim, o.metric)
    loaded.load(path)

    def h_search(q, ef):
        h.set_ef(ef)
        return h.knn_query(q, k=10)[0][0]

    def a_search(q, ef):
        return loaded.search(q, 10, ef=ef)

    h_size, a_size = os.path.getsize(os.path.join(work, "h.bin")), os.path.getsize(path)
    print(f"## {n} x {dim} {o.metric}, build on {o.threads} thread(s), queries on 1\n")
    print(
        f"build: hnswlib {h_build:.1f} s; ann forest {forest:.1f} s + graph {graph:.1f} s = "
        f"{forest + graph:.1f} s (**{(forest + graph) / h_build:.2f}x**)\n"
    )
    print(f"file: hnswlib {h_size / 1e6:.0f} MB, ann {a_size / 1e6:.0f} MB (**{a_size / h_size:.2f}x**)\n")
    hp, ap = curve(h_search, queries, truth), curve(a_search, queries, truth)
    print("| ef | hnswlib recall, QPS | ann recall, QPS |\n|---:|---|---|")
    for (ef, r1, q1), (_, r2, q2) in zip(hp, ap):
        print(f"| {ef} | {r1:.4f}, {q1:.0f} | {r2:.4f}, {q2:.0f} |")
    print()
    for target in (0.90, 0.95, 0.99):
        x, y = qps_at(ap, target), qps_at(hp, target)
        ratio = f"**{x / y:.2f}x**" if x and y else "n/a"
        print(f"- recall {target:.2f}: ann {x or 0:.0f} QPS, hnswlib {y or 0:.0f} QPS, {ratio}")
    a_rss, h_rss = peak_rss("ann", path, o, dim), peak_rss("hnswlib", os.path.join(work, "h.bin"), o, dim)
    print(
        f"\npeak RSS growth, load + every query at ef 64 in a fresh process: ann {a_rss / 1e6:.0f} MB "
        f"({a_rss / a_size:.2f}x its file, mapped), hnswlib {h_rss / 1e6:.0f} MB ({h_rss / h_size:.2f}x its file)"
    )


if __name__ == "__main__":
    main()
