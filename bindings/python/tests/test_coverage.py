"""The rest of the C API: packed hamming bits, seeds, header-less loads, versions, and a
check that every function in include/ann.h has a wrapper in this package."""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pytest
from support import build, dataset

import ann
from ann import AnnoyIndex, _native

PACKAGE = Path(ann.__file__).resolve().parent
HEADER = Path(__file__).resolve().parents[3] / "include" / "ann.h"


def pack(bits: np.ndarray) -> list:
    """0/1 values as 64-bit words, bit j of word k being bit 64k + j."""
    words = []
    for start in range(0, len(bits), 64):
        chunk = bits[start : start + 64]
        words.append(sum(1 << j for j, bit in enumerate(chunk) if bit > 0.5))
    return words


@pytest.fixture
def hamming():
    data = dataset("hamming", 200, 70, seed=3)  # 70 bits: two words, the second partly used
    return build("hamming", data, n_trees=8), data


# -- packed hamming bits ------------------------------------------------------------------


def test_bits_round_trip_and_agree_with_float_vectors(hamming):
    index, data = hamming
    for i in (0, 1, 199):
        assert index.get_item_bits(i) == pack(data[i])
        assert index.get_item_vector(i) == data[i].tolist()
    fresh = AnnoyIndex(70, "hamming")
    fresh.add_item_bits(0, pack(data[0]))
    fresh.add_item_bits(1, np.array(pack(data[1]), dtype=np.uint64))
    assert fresh.get_item_vector(0) == data[0].tolist()
    assert fresh.get_item_bits(1) == pack(data[1])


def test_queries_by_bits_equal_queries_by_vector(hamming):
    index, data = hamming
    queries = dataset("hamming", 20, 70, seed=4)
    for query in queries:
        by_bits = index.get_nns_by_bits(pack(query), 10, include_distances=True)
        assert by_bits == index.get_nns_by_vector(query, 10, include_distances=True)
        assert index.get_nns_by_bits(pack(query), 5, search_k=1000) == index.get_nns_by_vector(query, 5, 1000)
    exact = np.count_nonzero(data != queries[0], axis=1)
    ids, distances = index.get_nns_by_bits(pack(queries[0]), 3, search_k=10**6, include_distances=True)
    assert distances == sorted(exact)[:3]


def test_bad_words_are_clear_errors(hamming):
    index = AnnoyIndex(70, "hamming")
    with pytest.raises(IndexError, match=r"^Word vector has wrong length \(expected 2, got 1\)$"):
        index.add_item_bits(0, [1])
    with pytest.raises(ValueError, match="ann_add_item_packed"):
        index.add_item_bits(0, [0, 1 << 6])  # bit 70 is past f
    with pytest.raises(OverflowError, match="word 1"):
        index.add_item_bits(0, [0, 2**64])
    with pytest.raises(ann.IntegerOverflow):
        index.add_item_bits(0, [-1, 0])
    with pytest.raises(TypeError):
        index.add_item_bits(0, [1.5, 0])
    with pytest.raises(IndexError, match="^Item index can not be negative$"):
        index.add_item_bits(-1, [0, 0])
    built, _ = hamming
    with pytest.raises(Exception, match="ann_add_item_packed: .*unbuild"):
        built.add_item_bits(500, [0, 0])
    with pytest.raises(IndexError, match="wrong length"):
        built.get_nns_by_bits([0, 0, 0], 3)
    with pytest.raises(IndexError, match="^Item index larger than the largest item index$"):
        built.get_item_bits(200)


def test_bits_need_a_hamming_index():
    index = AnnoyIndex(64, "euclidean")
    with pytest.raises(ValueError, match="ann_add_item_packed"):
        index.add_item_bits(0, [5])
    index.add_item(0, [0.0] * 64)
    with pytest.raises(ValueError, match="ann_get_item_packed"):
        index.get_item_bits(0)
    index.build(1)
    with pytest.raises(ValueError, match="ann_get_nns_packed"):
        index.get_nns_by_bits([5], 1)


def test_a_hole_has_no_bits():
    index = AnnoyIndex(64, "hamming")
    index.add_item_bits(2, [7])
    with pytest.raises(IndexError, match="ann_get_item_packed: .*never added"):
        index.get_item_bits(1)


# -- seeds, header-less loads, versions ---------------------------------------------------


def test_the_seed_is_kept_in_native_files(tmp_path):
    index = AnnoyIndex(4, "angular")
    default = index.get_seed()
    index.set_seed(-1)
    assert index.get_seed() == 2**64 - 1
    index.set_seed(12345)
    assert index.get_seed() == 12345 != default
    for i, row in enumerate(dataset("angular", 20, 4)):
        index.add_item(i, row)
    index.build(3)
    index.save(str(tmp_path / "s.ann"))
    loaded = AnnoyIndex(4, "angular")
    loaded.load(str(tmp_path / "s.ann"))
    assert loaded.get_seed() == 12345
    assert ann.file_info(tmp_path / "s.ann").seed == 12345


def test_load_annoy_reads_save_annoy_files(tmp_path):
    data = dataset("dot", 100, 8)
    index = build("dot", data)
    index.save_annoy(str(tmp_path / "x.annoy"))
    other = AnnoyIndex(8, "dot")
    assert other.load_annoy(tmp_path / "x.annoy") is True
    assert other.get_nns_by_item(3, 10) == index.get_nns_by_item(3, 10)
    assert "file=" in repr(other)
    # A wrong dim is caught by the file size or, when the size happens to fit, by the roots.
    with pytest.raises(OSError, match="ann_load_annoy: .*dim 9.*check the dimension and metric"):
        AnnoyIndex(9, "dot").load_annoy(str(tmp_path / "x.annoy"))
    with pytest.raises(OSError, match="ann_load_annoy"):
        AnnoyIndex(8, "dot").load_annoy(str(tmp_path / "missing.annoy"))


def test_versions():
    assert ann.abi_version == ann.ABI_VERSION == 1
    assert re.fullmatch(r"\d+\.\d+\.\d+.*", ann.library_version)
    assert [AnnoyIndex(2, name).metric for name in ("cosine", "dot")] == ["angular", "dot"]


@pytest.mark.skipif(not HEADER.is_file(), reason="needs include/ann.h of the source checkout")
def test_every_c_function_has_a_wrapper():
    """Each function of ann.h is declared for ctypes and called somewhere in the package."""
    functions = set(re.findall(r"^\S.*?\b(ann_\w+)\(", HEADER.read_text(), flags=re.MULTILINE))
    assert len(functions) > 30
    assert functions <= set(_native._SIGNATURES), sorted(functions - set(_native._SIGNATURES))
    native = (PACKAGE / "_native.py").read_text()
    declarations = slice(native.index("_SIGNATURES:"), native.index("\n}\n", native.index("_SIGNATURES:")))
    source = native[: declarations.start] + native[declarations.stop :]  # uses, not declarations
    source += "\n".join(p.read_text() for p in PACKAGE.glob("*.py") if p.name != "_native.py")
    unused = sorted(f for f in functions if f"lib.{f}" not in source)
    assert not unused, f"declared but never called: {unused}"


def test_the_new_methods_after_close_are_errors_not_crashes(tmp_path):
    index = AnnoyIndex(64, "hamming")
    index.add_item_bits(0, [1])
    index.build(1)
    index.save_annoy(str(tmp_path / "h.annoy"))
    index.close()
    for call in (
        lambda: index.add_item_bits(1, [1]),
        lambda: index.get_item_bits(0),
        lambda: index.get_nns_by_bits([1], 1),
        lambda: index.get_seed(),
        lambda: index.load_annoy(str(tmp_path / "h.annoy")),
    ):
        with pytest.raises(ValueError, match="closed"):
            call()
