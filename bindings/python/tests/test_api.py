"""The Annoy API surface: construction, adding, building, reading, queries, exceptions."""

from __future__ import annotations

import array
import ctypes
import warnings

import numpy as np
import pytest
from support import METRICS, build, dataset

import ann
from ann import AnnoyIndex

FUTURE_WARNING = (
    "The default argument for metric will be removed in future version of Annoy. "
    "Please pass metric='angular' explicitly."
)


@pytest.fixture
def small():
    """A built euclidean index over 50 random 4-d vectors."""
    data = dataset("euclidean", 50, 4)
    return build("euclidean", data, n_trees=5), data


# -- construction ------------------------------------------------------------------------


def test_version_matches_the_library():
    assert ann.__version__ == ann.library_version


@pytest.mark.parametrize("metric", METRICS)
def test_every_metric_name(metric):
    index = AnnoyIndex(8, metric)
    assert index.f == 8
    assert index.metric == metric


def test_cosine_is_angular():
    index = AnnoyIndex(3, "cosine")
    assert index.metric == "angular"
    for i, v in enumerate([[1, 0, 0], [0, 1, 0], [1, 1, 0]]):
        index.add_item(i, v)
    index.build(2)
    ids, dists = index.get_nns_by_vector([1, 0.1, 0], 3, include_distances=True)
    assert ids == [0, 2, 1]
    assert dists[0] == pytest.approx(np.sqrt(2 - 2 * (1 / np.sqrt(1.01))), rel=1e-5)


def test_omitting_the_metric_warns_like_annoy_and_uses_angular():
    with pytest.warns(FutureWarning) as record:
        index = AnnoyIndex(3)
    assert str(record[0].message) == FUTURE_WARNING
    assert record[0].filename == __file__  # stacklevel points at the caller, as in Annoy
    assert index.metric == "angular"


def test_an_explicit_metric_does_not_warn():
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        AnnoyIndex(3, "angular")
        AnnoyIndex(f=3, metric="dot")


def test_unknown_metric_is_annoys_value_error_with_the_library_message():
    with pytest.raises(ValueError, match=r"^No such metric: ann_metric_from_name: .*bogus"):
        AnnoyIndex(3, "bogus")


@pytest.mark.parametrize("f", [0, -1, 2**40])
def test_invalid_dimension(f):
    with pytest.raises(ValueError):
        AnnoyIndex(f, "angular")


def test_dimension_zero_carries_the_library_message():
    with pytest.raises(ValueError, match="ann_new"):
        AnnoyIndex(0, "angular")


# -- adding and building -----------------------------------------------------------------


def test_returns_match_annoy(tmp_path):
    index = AnnoyIndex(2, "euclidean")
    assert index.add_item(0, [1, 2]) is None
    assert index.verbose(True) is True
    assert index.set_seed(7) is None
    assert index.build(3) is True
    assert index.unbuild() is True
    assert index.build(3, n_jobs=1) is True
    assert index.save(str(tmp_path / "a.ann")) is True
    assert index.save_annoy(str(tmp_path / "a.annoy")) is True
    assert index.load(str(tmp_path / "a.ann")) is True
    assert index.unload() is True
    assert index.on_disk_build(str(tmp_path / "b.ann")) is True


def test_keyword_names_are_annoys(tmp_path):
    index = AnnoyIndex(f=2, metric="euclidean")
    index.add_item(i=0, vector=[0, 0])
    index.add_item(i=1, vector=[1, 1])
    index.build(n_trees=2, n_jobs=1)
    assert index.get_nns_by_item(i=0, n=2, search_k=-1, include_distances=False) == [0, 1]
    assert index.get_nns_by_vector(vector=[1, 1], n=1, search_k=10, include_distances=True) == ([1], [0.0])
    index.save(fn=str(tmp_path / "k.ann"), prefault=False)
    index.load(fn=str(tmp_path / "k.ann"), prefault=True)
    other = AnnoyIndex(2, "euclidean")
    other.on_disk_build(fn=str(tmp_path / "d.ann"))


def test_positional_only_methods_as_in_annoy(small):
    index, _ = small
    with pytest.raises(TypeError):
        index.get_item_vector(i=0)
    with pytest.raises(TypeError):
        index.get_distance(i=0, j=1)


def test_counts(small):
    index, data = small
    assert index.get_n_items() == len(data)
    assert index.get_n_trees() == 5
    fresh = AnnoyIndex(4, "euclidean")
    assert (fresh.get_n_items(), fresh.get_n_trees()) == (0, 0)


def test_build_twice_is_an_exception_with_the_library_message(small):
    index, _ = small
    with pytest.raises(Exception, match="ann_build: .*already built") as info:
        index.build(2)
    assert type(info.value) is Exception
    assert info.value.ann_status == "ANN_STATUS_INVALID_STATE"


def test_add_to_a_built_index_is_an_exception(small):
    index, _ = small
    with pytest.raises(Exception, match="ann_add_item: .*unbuild") as info:
        index.add_item(100, [0, 0, 0, 0])
    assert type(info.value) is Exception


def test_add_to_a_loaded_index_is_an_exception(small, tmp_path):
    index, _ = small
    index.save(str(tmp_path / "s.ann"))  # as in Annoy, the index now maps the saved file
    with pytest.raises(Exception, match="ann_add_item: .*loaded") as info:
        index.add_item(100, [0, 0, 0, 0])
    assert type(info.value) is Exception


def test_query_before_build_is_an_exception():
    index = AnnoyIndex(2, "angular")
    index.add_item(0, [1, 0])
    for query in (lambda: index.get_nns_by_item(0, 1), lambda: index.get_nns_by_vector([1, 0], 1)):
        with pytest.raises(Exception, match="not built") as info:
            query()
        assert type(info.value) is Exception


def test_unbuild_then_add_and_rebuild(small):
    index, data = small
    index.unbuild()
    assert index.get_n_trees() == 0
    index.add_item(50, data[0] + 0.001)
    index.build(5)
    assert index.get_nns_by_item(0, 2) == [0, 50]


def test_invalid_build_arguments(small):
    index = AnnoyIndex(2, "angular")
    index.add_item(0, [1, 0])
    with pytest.raises(ValueError, match="n_trees"):
        index.build(0)
    with pytest.raises(ValueError, match="n_jobs|n_threads"):
        index.build(2, n_jobs=0)


def test_seeded_builds_are_deterministic_across_thread_counts():
    data = dataset("angular", 300, 16)
    results = []
    for n_jobs in (1, 2, -1):
        index = AnnoyIndex(16, "angular")
        index.set_seed(123)
        for i, row in enumerate(data):
            index.add_item(i, row)
        index.build(8, n_jobs=n_jobs)
        results.append([index.get_nns_by_item(i, 10) for i in range(0, 300, 7)])
    assert results[0] == results[1] == results[2]


def test_negative_and_huge_seeds_wrap_like_annoy():
    index = AnnoyIndex(2, "angular")
    index.set_seed(-1)
    index.set_seed(2**64 - 1)
    with pytest.raises(ValueError):
        index.set_seed(2**64)


# -- ids and vectors ---------------------------------------------------------------------


def test_negative_ids_are_index_errors(small):
    index, _ = small
    calls = [
        lambda: index.add_item(-1, [0, 0, 0, 0]),
        lambda: index.get_item_vector(-1),
        lambda: index.get_distance(-1, 0),
        lambda: index.get_distance(0, -1),
        lambda: index.get_nns_by_item(-1, 3),
    ]
    for call in calls:
        with pytest.raises(IndexError, match="^Item index can not be negative$"):
            call()


def test_ids_past_the_end_are_index_errors(small):
    index, _ = small
    for call in (
        lambda: index.get_item_vector(50),
        lambda: index.get_distance(0, 50),
        lambda: index.get_nns_by_item(10**6, 3),
    ):
        with pytest.raises(IndexError, match="^Item index larger than the largest item index$"):
            call()


def test_keys_past_uint64_or_reserved_are_overflow_errors():
    index = AnnoyIndex(2, "angular")
    index.add_item(2**31 - 1, [1, 0])  # any 64-bit key but 2**64 - 1
    with pytest.raises(ann.IntegerOverflow, match=r"2\*\*64 - 1 is reserved"):
        index.add_item(2**64 - 1, [1, 0])
    with pytest.raises(OverflowError, match="^Python int too large to convert to C long$"):
        index.add_item(2**64, [1, 0])
    assert index.get_n_stored() == 1


def test_holes_are_skipped_and_are_index_errors():
    index = AnnoyIndex(2, "euclidean")
    for i in (0, 1, 2, 5):
        index.add_item(i, [i, 0])
    assert index.get_n_items() == 6
    with pytest.raises(IndexError, match="ann_get_item_vector: .*never added"):
        index.get_item_vector(3)
    with pytest.raises(IndexError, match="ann_get_distance: .*never added"):
        index.get_distance(0, 4)
    index.build(3)
    with pytest.raises(IndexError, match="ann_get_nns_by_item: .*never added"):
        index.get_nns_by_item(4, 3)
    assert index.get_nns_by_vector([3.1, 0], 10) == [2, 5, 1, 0]
    assert index.get_nns_by_item(5, 10, include_distances=True) == ([5, 2, 1, 0], [0.0, 3.0, 4.0, 5.0])


def test_wrong_vector_length_is_annoys_index_error(small):
    index, _ = small
    with pytest.raises(IndexError, match=r"^Vector has wrong length \(expected 4, got 3\)$"):
        index.get_nns_by_vector([1, 2, 3], 1)
    with pytest.raises(IndexError, match=r"^Vector has wrong length \(expected 4, got 5\)$"):
        AnnoyIndex(4, "angular").add_item(0, np.zeros(5))
    with pytest.raises(IndexError, match="wrong length"):
        index.get_nns_by_vector(np.zeros((4, 4)), 1)  # 4 rows, but not a vector


def test_nan_is_a_value_error_with_the_library_message(small):
    index, _ = small
    with pytest.raises(ValueError, match="ann_get_nns: .*NaN"):
        index.get_nns_by_vector([0, float("nan"), 0, 0], 1)
    with pytest.raises(ValueError, match="ann_add_item: .*inf"):
        AnnoyIndex(2, "angular").add_item(0, [float("inf"), 0])


def test_non_numeric_vectors_are_type_errors():
    index = AnnoyIndex(2, "angular")
    with pytest.raises(TypeError):
        index.add_item(0, ["a", "b"])
    with pytest.raises(TypeError):
        index.add_item(0, (x for x in [1, 2]))  # no len(), as in Annoy


def test_non_integer_ids_are_type_errors():
    index = AnnoyIndex(2, "angular")
    with pytest.raises(TypeError):
        index.add_item(1.5, [1, 0])
    index.add_item(np.int64(1), [1, 0])  # __index__ works, as in Annoy
    assert index.get_n_items() == 2


VECTORS = {
    "list": lambda v: [float(x) for x in v],
    "tuple": lambda v: tuple(int(x) for x in v),
    "float64": lambda v: np.asarray(v, dtype=np.float64),
    "float32": lambda v: np.asarray(v, dtype=np.float32),
    "float16": lambda v: np.asarray(v, dtype=np.float16),
    "int32": lambda v: np.asarray(v, dtype=np.int32),
    "uint8": lambda v: np.asarray(v, dtype=np.uint8),
    "strided": lambda v: np.repeat(np.asarray(v, dtype=np.float64), 2)[::2],
    "array.array": lambda v: array.array("d", v),
    "numpy scalars": lambda v: list(np.asarray(v, dtype=np.float64)),
}


@pytest.mark.parametrize("kind", VECTORS)
def test_any_sequence_is_a_vector(kind):
    values = [3, 1, 4, 1, 5, 9, 2, 6]
    convert = VECTORS[kind]
    index = AnnoyIndex(8, "euclidean")
    index.add_item(0, convert(values))
    index.add_item(1, convert([0] * 8))
    assert index.get_item_vector(0) == [float(x) for x in values]
    index.build(1)
    assert index.get_nns_by_vector(convert(values), 2, include_distances=True) == (
        [0, 1],
        [0.0, pytest.approx(np.linalg.norm(values), rel=1e-6)],
    )


def test_vectors_round_to_float32():
    index = AnnoyIndex(1, "euclidean")
    index.add_item(0, [0.1])
    assert index.get_item_vector(0) == [float(np.float32(0.1))]


def test_get_item_vector_and_get_distance(small):
    index, data = small
    assert index.get_item_vector(7) == data[7].tolist()
    assert index.get_distance(3, 9) == pytest.approx(float(np.linalg.norm(data[3] - data[9])), rel=1e-5)
    assert isinstance(index.get_distance(3, 9), float)


def test_get_distance_before_build():
    index = AnnoyIndex(2, "manhattan")
    index.add_item(0, [0, 0])
    index.add_item(1, [1, -2])
    assert index.get_distance(0, 1) == 3.0


# -- queries -----------------------------------------------------------------------------


def test_result_types(small):
    index, _ = small
    ids = index.get_nns_by_item(0, 5)
    assert isinstance(ids, list) and all(type(i) is int for i in ids)
    result = index.get_nns_by_item(0, 5, include_distances=True)
    assert isinstance(result, tuple) and len(result) == 2
    assert all(type(d) is float for d in result[1])
    assert result[0] == ids


def test_include_distances_accepts_ints_like_annoy(small):
    index, _ = small
    assert isinstance(index.get_nns_by_item(0, 3, -1, 1), tuple)
    assert isinstance(index.get_nns_by_item(0, 3, -1, 0), list)


def test_n_larger_than_the_index_and_zero(small):
    index, data = small
    assert sorted(index.get_nns_by_item(0, 10**9, search_k=10**6)) == list(range(len(data)))
    assert index.get_nns_by_item(0, 0) == []
    assert index.get_nns_by_vector(data[0], 0, include_distances=True) == ([], [])


def test_search_k_validation(small):
    index, _ = small
    with pytest.raises(ValueError, match="search_k"):
        index.get_nns_by_item(0, 3, search_k=-2)
    with pytest.raises(ValueError, match="n must be"):
        index.get_nns_by_item(0, -1)
    assert index.get_nns_by_item(0, 3, search_k=0) == []  # no candidates collected


def test_larger_search_k_finds_at_least_as_good_neighbours(small):
    index, data = small
    query = np.full(4, 0.3)
    _, few = index.get_nns_by_vector(query, 5, search_k=5, include_distances=True)
    _, many = index.get_nns_by_vector(query, 5, search_k=10**5, include_distances=True)
    assert sum(many) <= sum(few) + 1e-6


# -- hamming -----------------------------------------------------------------------------


def test_hamming_bits_and_distances():
    index = AnnoyIndex(70, "hamming")  # more than one 64-bit word
    a = np.zeros(70)
    b = np.zeros(70)
    b[[0, 63, 64, 69]] = 1
    c = np.full(70, 0.6)  # values above 0.5 are 1 bits
    index.add_item(0, a)
    index.add_item(1, b)
    index.add_item(2, c)
    assert index.get_item_vector(1) == b.tolist()
    assert index.get_item_vector(2) == [1.0] * 70
    assert index.get_distance(0, 1) == 4.0
    assert index.get_distance(1, 2) == 66.0
    index.build(3)
    q = b.copy()
    q[5] = 0.51
    assert index.get_nns_by_vector(q, 3, include_distances=True) == ([1, 0, 2], [1.0, 5.0, 65.0])
    assert index.get_nns_by_vector(np.asarray(q > 0.5), 1) == [1]  # bool arrays work too


def test_dot_distances_are_inner_products_largest_first():
    index = AnnoyIndex(2, "dot")
    for i, v in enumerate([[1, 0], [2, 0], [0, 3], [-1, -1]]):
        index.add_item(i, v)
    index.build(5)
    assert index.get_nns_by_vector([1, 1], 4, include_distances=True) == ([2, 1, 0, 3], [3.0, 2.0, 1.0, -2.0])


# -- passing vectors to C -----------------------------------------------------------------


def test_a_float32_numpy_row_reaches_c_without_a_copy():
    """A C-contiguous float32 row is handed to libann in place: the pointer C receives is the
    array's own memory (no conversion, no copy per query)."""
    from ann import _args

    matrix = np.arange(24, dtype=np.float32).reshape(3, 8)
    row = matrix[1]
    arg = _args.vector(row, 8)
    assert ctypes.addressof(arg) == row.ctypes.data
    row[0] = 42.0  # the view sees the array's memory, not a snapshot
    assert arg[0] == 42.0


def test_read_only_and_other_dtypes_are_converted_correctly(small):
    from ann import _args

    index, data = small
    frozen = np.array(data[0], dtype=np.float32)
    frozen.setflags(write=False)
    pointer = _args.vector(frozen, 4)
    assert ctypes.cast(pointer, ctypes.c_void_p).value == frozen.ctypes.data
    expected = index.get_nns_by_vector(list(data[0]), 5)
    for vector in (frozen, np.array(data[0], dtype=np.float64), np.array(data[0], dtype=np.float16)[::1]):
        got = index.get_nns_by_vector(vector, 5)
        if vector.dtype != np.float16:
            assert got == expected
        else:
            assert len(got) == 5
