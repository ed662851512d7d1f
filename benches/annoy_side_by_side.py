"""Annoy 1.17.3 and ann side by side on the same data, in one run, reported as ratios.

The machines we benchmark on are shared and noisy, so absolute figures mean little: this
script measures both libraries back to back with identical data, tree count, search_k values
and thread count, and prints ann/Annoy ratios.

    pip install annoy==1.17.3 numpy
    python3 benches/annoy_side_by_side.py [--trees 50] [--limit N] [--metric angular]
    python3 benches/annoy_side_by_side.py --data ../shared/data/dev-raw-30k --metric dot

Data: ../shared/data/dev (100,000 x 384 sentence embeddings, float16) with its exact ground
truth, or another directory with base.npy, query.npy and gt_<metric>_ids.npy; ann's side is
`cargo run --release --example bench`, whose table this script parses.
"""

import argparse
import os
import re
import subprocess
import sys
import tempfile
import time

import numpy as np
from annoy import AnnoyIndex

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
DATA = os.path.join(ROOT, "..", "shared", "data", "dev")
SEARCH_KS = [-1, 2000, 5000, 20000]


def annoy_figures(base, queries, truth, metric, trees, n):
    index = AnnoyIndex(base.shape[1], metric)
    for i, v in enumerate(base):
        index.add_item(i, v)
    start = time.perf_counter()
    index.build(trees, n_jobs=-1)
    build_s = time.perf_counter() - start
    with tempfile.TemporaryDirectory() as tmp:
        path = os.path.join(tmp, "annoy.ann")
        index.save(path)
        size = os.path.getsize(path)
        loaded = AnnoyIndex(base.shape[1], metric)
        loaded.load(path)
        rows = []
        for search_k in SEARCH_KS:
            start = time.perf_counter()
            results = [loaded.get_nns_by_vector(q, n, search_k=search_k) for q in queries]
            qps = len(queries) / (time.perf_counter() - start)
            recall = np.mean([len(set(r[:n]) & set(t[:n])) / n for r, t in zip(results, truth)])
            rows.append((search_k, recall, qps))
        loaded.unload()
    return build_s, size, rows


def ann_figures(data, metric, trees, n, limit):
    cmd = ["cargo", "run", "--quiet", "--release", "--example", "bench", "--",
           "--data", data, "--metric", metric, "--trees", str(trees), "--n", str(n),
           "--search-k", ",".join(map(str, SEARCH_KS))]
    if limit:
        cmd += ["--limit", str(limit)]
    out = subprocess.run(cmd, cwd=ROOT, check=True, capture_output=True, text=True).stdout
    build = re.search(r"^build:\s+([\d.]+) (ms|s)", out, re.M)
    build_s = float(build.group(1)) / (1000 if build.group(2) == "ms" else 1)
    size_mib = float(re.search(r"^save:.*\(([\d.]+) MiB", out, re.M).group(1))
    rows = []
    for line in out.splitlines():
        parts = line.split()
        if len(parts) == 6 and re.fullmatch(r"-?\d+", parts[0]) and parts[5].endswith("x"):
            rows.append((int(parts[0]), float(parts[1]), float(parts[2])))
    return build_s, size_mib * 2**20, rows


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--trees", type=int, default=50)
    parser.add_argument("--metric", default="angular", choices=["angular", "euclidean", "dot"])
    parser.add_argument("--data", default=DATA, help="directory with base.npy, query.npy, gt_*")
    parser.add_argument("--limit", type=int, default=0)
    parser.add_argument("--n", type=int, default=10)
    args = parser.parse_args()

    base = np.load(os.path.join(args.data, "base.npy")).astype(np.float32)
    queries = np.load(os.path.join(args.data, "query.npy")).astype(np.float32)
    if args.limit:
        base = base[: args.limit]
        # Exact neighbours of the subset, by brute force (the stored truth covers the full set).
        if args.metric == "euclidean":
            d = (queries**2).sum(1)[:, None] - 2 * queries @ base.T + (base**2).sum(1)[None, :]
        elif args.metric == "dot":
            d = -(queries @ base.T)
        else:
            qn = queries / np.linalg.norm(queries, axis=1, keepdims=True)
            bn = base / np.linalg.norm(base, axis=1, keepdims=True)
            d = -(qn @ bn.T)
        truth = np.argsort(d, axis=1, kind="stable")[:, : args.n]
    else:
        truth = np.load(os.path.join(args.data, f"gt_{args.metric}_ids.npy"))

    print(f"{len(base)} x {base.shape[1]} {args.metric}, {args.trees} trees, "
          f"{os.cpu_count()} threads for building, 1 for queries, n = {args.n}", flush=True)
    a_build, a_size, a_rows = annoy_figures(base, queries, truth, args.metric, args.trees, args.n)
    o_build, o_size, o_rows = ann_figures(os.path.abspath(args.data), args.metric, args.trees, args.n, args.limit)

    print(f"build time   Annoy {a_build:7.2f} s   ann {o_build:7.2f} s   ann/Annoy {o_build / a_build:5.2f}")
    print(f"file size    Annoy {a_size / 2**20:7.1f} MiB ann {o_size / 2**20:7.1f} MiB")
    print(f"{'search_k':>9} {'recall Annoy':>13} {'recall ann':>11} {'QPS Annoy':>10} {'QPS ann':>9} {'QPS ann/Annoy':>14}")
    for (k, ar, aq), (_, orr, oq) in zip(a_rows, o_rows):
        print(f"{k:>9} {ar:>13.4f} {orr:>11.4f} {aq:>10.0f} {oq:>9.0f} {oq / aq:>14.2f}")


if __name__ == "__main__":
    sys.exit(main())
