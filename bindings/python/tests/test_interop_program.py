"""The ``interop`` program (bindings/README.md): its exact output, the files it writes, and
its failures. The cross-language test compares this output byte for byte with the other
languages'; here it is checked against brute force, the real Annoy, and itself."""

from __future__ import annotations

import os
import re
import struct
import subprocess
from pathlib import Path

import numpy as np
import pytest
from support import METRICS, assert_same_neighbours, nearest_first, true_distances

import ann

PROGRAM = Path(__file__).resolve().parents[1] / "interop"
N_ITEMS, N_QUERIES, DIM, N = 300, 6, 8, 7


def run(*args: object, check: bool = True) -> subprocess.CompletedProcess:
    env = {**os.environ, "ANN_LIB": str(ann.library_path)}
    result = subprocess.run([str(PROGRAM), *map(str, args)], env=env, capture_output=True, text=True)
    if check:
        assert result.returncode == 0, result.stderr
    return result


def rows(metric: str, n: int, seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    if metric == "hamming":
        return (rng.random((n, 70)) > 0.5).astype("<f4")
    return rng.standard_normal((n, DIM)).astype("<f4")


def as_float(bits: str) -> float:
    return struct.unpack("<f", struct.pack("<I", int(bits, 16)))[0]


def parse_neighbours(line: str, label: str) -> tuple:
    head, _, rest = line.partition(":")
    assert head == label
    pairs = [pair.split(":") for pair in rest.split()]
    return [int(i) for i, _ in pairs], [as_float(bits) for _, bits in pairs]


@pytest.fixture(scope="module", params=METRICS)
def built(request, tmp_path_factory):
    """Files written by ``interop build`` for one metric, with the data behind them."""
    metric = request.param
    tmp = tmp_path_factory.mktemp(metric)
    data, queries = rows(metric, N_ITEMS, 1), rows(metric, N_QUERIES, 2)
    data.tofile(tmp / "vectors.f32")
    queries.tofile(tmp / "queries.f32")
    run(
        "build",
        metric,
        data.shape[1],
        tmp / "vectors.f32",
        10,
        42,
        tmp / "out.ann",
        tmp / "out.annoy",
        tmp / "out.graph.ann",
    )
    return metric, tmp, data, queries, {}


#: The file of each kind ``interop build`` writes, and the loader ``interop query`` reads it with.
FILES = {
    "native": ("out.ann", "native"),
    "annoy": ("out.annoy", "annoy"),
    "graph": ("out.graph.ann", "native"),
}


def query(built, kind: str, search_k: int = -1) -> list:
    """The output lines of one ``interop query`` of the ``kind`` file (see ``FILES``), run once
    per module and metric."""
    metric, tmp, data, _, outputs = built
    if (kind, search_k) not in outputs:
        name, loader = FILES[kind]
        result = run("query", loader, tmp / name, metric, data.shape[1], tmp / "queries.f32", N, search_k)
        outputs[kind, search_k] = result.stdout.splitlines()
    return outputs[kind, search_k]


def test_the_output_has_the_protocols_shape(built):
    metric, _, data, _, _ = built
    lines = query(built, "native")
    assert lines[0] == f"n_items {N_ITEMS} n_trees 10 dim {data.shape[1]} metric {metric}"
    labels = [f"q{q}" for q in range(N_QUERIES)] + [f"i{i}" for i in range(5)] + [f"v{i}" for i in range(5)]
    assert [line.partition(":")[0] for line in lines[1:]] == labels
    for line in lines[1:]:
        if line.startswith("v"):
            assert re.fullmatch(rf"v\d:( [0-9a-f]{{8}}){{{data.shape[1]}}}", line), line
        else:
            assert re.fullmatch(rf"[qi]\d:( \d+:[0-9a-f]{{8}}){{{N}}}", line), line


def test_item_vectors_are_the_input_bit_for_bit(built):
    _, _, data, _, _ = built
    for i, line in enumerate(query(built, "native")[-5:]):
        assert line == f"v{i}:" + "".join(f" {word:08x}" for word in data[i].view("<u4"))


@pytest.mark.parametrize("kind", ["native", "graph"])
def test_exhaustive_queries_match_brute_force(built, kind):
    metric, _, data, queries, _ = built
    lines = query(built, kind, search_k=10**6)  # with a graph: a beam of 10**6 / 16 nodes, every item
    for q, query_row in enumerate(queries):
        ids, distances = parse_neighbours(lines[1 + q], f"q{q}")
        exact = true_distances(metric, data, query_row)
        expected = nearest_first(metric, exact)[:N]
        assert_same_neighbours(ids, distances, expected, exact[expected], rel=1e-4)
    ids, distances = parse_neighbours(lines[1 + N_QUERIES], "i0")
    if metric != "dot":  # the item itself comes first, at distance 0
        assert (ids[0], distances[0]) == (0, 0.0)


def test_the_annoy_file_gives_the_native_files_answers(built):
    assert query(built, "annoy") == query(built, "native")


def test_the_graph_file_is_the_native_file_with_a_graph(built):
    _, tmp, _, _, _ = built
    assert ann.open(tmp / "out.graph.ann").has_graph() is True
    assert ann.open(tmp / "out.ann").has_graph() is False
    lines, native = query(built, "graph"), query(built, "native")
    assert lines[0] == native[0] and lines[-5:] == native[-5:]  # same items and trees
    info = ann.file_info(tmp / "out.graph.ann")
    assert (info.kind, info.n_trees, info.n_items) == ("native", 10, N_ITEMS)


def test_builds_are_reproducible(built, tmp_path):
    metric, tmp, data, _, _ = built
    run(
        "build",
        metric,
        data.shape[1],
        tmp / "vectors.f32",
        10,
        42,
        tmp_path / "again.ann",
        tmp_path / "again.annoy",
        tmp_path / "again.graph.ann",
    )
    assert (tmp_path / "again.ann").read_bytes() == (tmp / "out.ann").read_bytes()
    assert (tmp_path / "again.annoy").read_bytes() == (tmp / "out.annoy").read_bytes()
    assert (tmp_path / "again.graph.ann").read_bytes() == (tmp / "out.graph.ann").read_bytes()


def test_the_real_annoy_reads_the_annoy_file_alike(built):
    annoy = pytest.importorskip("annoy", reason="needs the real Annoy (pip install annoy==1.17.3)")
    metric, tmp, data, queries, _ = built
    theirs = annoy.AnnoyIndex(data.shape[1], metric)
    theirs.load(str(tmp / "out.annoy"))
    lines = query(built, "annoy")
    for q, query_row in enumerate(queries):
        ids, distances = parse_neighbours(lines[1 + q], f"q{q}")
        their_ids, their_distances = theirs.get_nns_by_vector(query_row.tolist(), N, include_distances=True)
        assert_same_neighbours(ids, distances, their_ids, their_distances)


def test_failures_exit_non_zero_with_the_librarys_message(tmp_path):
    data = rows("angular", 20, 3)
    data.tofile(tmp_path / "v.f32")
    run(
        "build",
        "angular",
        DIM,
        tmp_path / "v.f32",
        2,
        1,
        tmp_path / "a.ann",
        tmp_path / "a.annoy",
        tmp_path / "g.ann",
    )
    wrong_metric = run(
        "query", "native", tmp_path / "a.ann", "euclidean", DIM, tmp_path / "v.f32", 3, -1, check=False
    )
    assert wrong_metric.returncode == 1 and wrong_metric.stdout == ""
    assert f"use AnnoyIndex({DIM}, 'angular')" in wrong_metric.stderr
    missing = run(
        "query", "annoy", tmp_path / "nope.annoy", "angular", DIM, tmp_path / "v.f32", 3, -1, check=False
    )
    assert missing.returncode == 1 and "ann_load_annoy: " in missing.stderr
    native_as_annoy = run(
        "query", "native", tmp_path / "a.annoy", "angular", DIM, tmp_path / "v.f32", 3, -1, check=False
    )
    assert native_as_annoy.returncode == 1 and "not a native ann file" in native_as_annoy.stderr
    bad_metric = run(
        "build",
        "bogus",
        DIM,
        tmp_path / "v.f32",
        2,
        1,
        tmp_path / "b.ann",
        tmp_path / "b.annoy",
        tmp_path / "b.graph.ann",
        check=False,
    )
    assert bad_metric.returncode == 1 and "ann_metric_from_name" in bad_metric.stderr
    usage = run("query", "native", check=False)
    assert usage.returncode == 2 and "usage: interop" in usage.stderr
    old_build = run(
        "build",
        "angular",
        DIM,
        tmp_path / "v.f32",
        2,
        1,
        tmp_path / "c.ann",
        tmp_path / "c.annoy",
        check=False,
    )
    assert old_build.returncode == 2 and "<out.graph.ann>" in old_build.stderr  # the graph file is required
    assert not (tmp_path / "c.ann").exists()
