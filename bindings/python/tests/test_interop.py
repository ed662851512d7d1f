"""Interoperability with the real Annoy 1.17.3, in both directions, for every metric.

(a) Annoy builds and saves; we load the header-less file. (b) We build and ``save_annoy``;
Annoy loads it. Either way both libraries query the same file and must return the same
ids (up to ties within float rounding) and distances within 1e-5 relative.
"""

from __future__ import annotations

import pytest
from support import METRICS, assert_same_neighbours, build, dataset, max_relative_difference

from ann import AnnoyIndex, file_info

try:
    import annoy
except ImportError as e:  # not installed, or installed but broken
    pytest.skip(
        f"interop tests need the real Annoy (pip install annoy==1.17.3): {e}", allow_module_level=True
    )

N_ITEMS, N_QUERIES, N_TREES, SEED = 2000, 200, 10, 123


def dim_of(metric: str) -> int:
    return 64 if metric == "hamming" else 32


def build_with_annoy(metric, data, path):
    index = annoy.AnnoyIndex(data.shape[1], metric)
    index.set_seed(SEED)
    for i, row in enumerate(data):
        index.add_item(i, row.tolist())
    index.build(N_TREES, n_jobs=1)
    index.save(str(path))
    index.unload()
    loaded = annoy.AnnoyIndex(data.shape[1], metric)
    loaded.load(str(path))
    return loaded


def compare(metric, theirs, ours, queries):
    """Compares every query at search_k -1 and 2000; returns (differing lists, max rel diff)."""
    assert ours.get_n_items() == theirs.get_n_items() == N_ITEMS
    assert ours.get_n_trees() == theirs.get_n_trees()
    differing, worst = 0, 0.0
    for search_k in (-1, 2000):
        for query in queries:
            q = query.tolist()
            their_ids, their_dists = theirs.get_nns_by_vector(
                q, 10, search_k=search_k, include_distances=True
            )
            our_ids, our_dists = ours.get_nns_by_vector(q, 10, search_k=search_k, include_distances=True)
            if assert_same_neighbours(our_ids, our_dists, their_ids, their_dists):
                differing += 1
            worst = max(worst, max_relative_difference(our_dists, their_dists))
    for i in range(0, N_ITEMS, 97):
        assert ours.get_item_vector(i) == pytest.approx(theirs.get_item_vector(i), rel=1e-6)
    print(
        f"\n{metric}: {differing} of {2 * len(queries)} id lists differ by ties; "
        f"max relative distance difference {worst:.2e}"
    )
    return differing, worst


@pytest.mark.parametrize("metric", METRICS)
def test_we_read_files_annoy_wrote(metric, tmp_path):
    data = dataset(metric, N_ITEMS, dim_of(metric), seed=21)
    queries = dataset(metric, N_QUERIES, dim_of(metric), seed=22)
    path = tmp_path / "annoy.ann"
    theirs = build_with_annoy(metric, data, path)
    ours = AnnoyIndex(dim_of(metric), metric)
    ours.load(str(path))  # no ann header: read as a header-less Annoy file
    assert file_info(path).kind == "annoy"
    assert ours.get_n_trees() == N_TREES
    compare(metric, theirs, ours, queries)


@pytest.mark.parametrize("metric", METRICS)
def test_annoy_reads_files_we_wrote(metric, tmp_path):
    data = dataset(metric, N_ITEMS, dim_of(metric), seed=31)
    queries = dataset(metric, N_QUERIES, dim_of(metric), seed=32)
    ours = build(metric, data, n_trees=N_TREES, seed=SEED)
    path = tmp_path / "ours.annoy"
    ours.save_annoy(str(path))
    theirs = annoy.AnnoyIndex(dim_of(metric), metric)
    theirs.load(str(path))
    compare(metric, theirs, ours, queries)
    reread = AnnoyIndex(dim_of(metric), metric)
    reread.load(str(path))
    for query in queries[:20]:
        assert reread.get_nns_by_vector(query, 10, include_distances=True) == ours.get_nns_by_vector(
            query, 10, include_distances=True
        )


def test_annoy_and_native_files_through_one_object(tmp_path):
    data = dataset("angular", N_ITEMS, 32, seed=41)
    theirs = build_with_annoy("angular", data, tmp_path / "annoy.ann")
    build("angular", data, n_trees=N_TREES).save(str(tmp_path / "native.ann"))
    index = AnnoyIndex(32, "angular")
    index.load(str(tmp_path / "annoy.ann"))
    assert index.get_nns_by_item(0, 10) == theirs.get_nns_by_item(0, 10)
    index.unload()
    index.load(str(tmp_path / "native.ann"))
    assert index.get_nns_by_item(0, 1) == [0]
    assert index.get_n_trees() == N_TREES


def test_annoy_file_with_the_wrong_dim_is_a_clear_error(tmp_path):
    data = dataset("euclidean", N_ITEMS, 32, seed=51)
    build_with_annoy("euclidean", data, tmp_path / "annoy.ann")
    size = (tmp_path / "annoy.ann").stat().st_size
    wrong = next(f for f in range(33, 80) if size % (16 + 4 * f))  # euclidean nodes: 16 + 4f bytes
    with pytest.raises(OSError, match="not a whole number of .*check the dimension and metric"):
        AnnoyIndex(wrong, "euclidean").load(str(tmp_path / "annoy.ann"))
