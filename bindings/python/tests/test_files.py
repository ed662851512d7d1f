"""Files: save, load, on_disk_build, unload, file_info, errors, and pickling in its three forms."""

from __future__ import annotations

import copy
import os
import pickle
import tempfile

import pytest
from support import METRICS, build, dataset

import ann
from ann import AnnoyIndex


def queries_of(index: AnnoyIndex, queries) -> list:
    return [index.get_nns_by_vector(q, 10, include_distances=True) for q in queries]


@pytest.fixture
def built():
    data = dataset("angular", 300, 16)
    return build("angular", data), data


@pytest.mark.parametrize("metric", METRICS)
def test_save_load_round_trip_gives_identical_results(metric, tmp_path):
    dim = 64 if metric == "hamming" else 16
    data = dataset(metric, 300, dim)
    queries = dataset(metric, 20, dim, seed=9)
    index = build(metric, data)
    before = queries_of(index, queries)
    path = tmp_path / "index.ann"
    index.save(str(path))
    loaded = AnnoyIndex(dim, metric)
    loaded.load(str(path))
    assert queries_of(loaded, queries) == before
    assert queries_of(index, queries) == before  # the saving index now maps the file
    assert (loaded.get_n_items(), loaded.get_n_trees()) == (300, 10)
    assert loaded.get_item_vector(5) == index.get_item_vector(5)
    assert loaded.verify() is True


def test_paths_may_be_pathlike_or_bytes(built, tmp_path):
    index, _ = built
    index.save(tmp_path / "p.ann")
    AnnoyIndex(16, "angular").load(os.fsencode(tmp_path / "p.ann"))


def test_prefault_load(built, tmp_path):
    index, data = built
    index.save(str(tmp_path / "p.ann"), prefault=True)
    other = AnnoyIndex(16, "angular")
    other.load(str(tmp_path / "p.ann"), prefault=True)
    assert other.get_nns_by_item(0, 5) == index.get_nns_by_item(0, 5)


def test_save_before_build_is_an_exception(tmp_path):
    index = AnnoyIndex(2, "angular")
    index.add_item(0, [1, 0])
    with pytest.raises(Exception, match="ann_save: .*not built"):
        index.save(str(tmp_path / "x.ann"))


def test_load_missing_file_is_an_os_error_naming_it(tmp_path):
    missing = tmp_path / "missing.ann"
    with pytest.raises(OSError, match="missing.ann") as info:
        AnnoyIndex(2, "angular").load(str(missing))
    assert info.value.ann_status == "ANN_STATUS_IO"


def test_save_to_a_bad_path_is_an_os_error(built, tmp_path):
    index, _ = built
    with pytest.raises(OSError, match="no-such-dir"):
        index.save(str(tmp_path / "no-such-dir" / "x.ann"))
    with pytest.raises(ValueError, match="NUL"):
        index.save("bad\0name")


def test_load_an_empty_file_is_an_os_error(tmp_path):
    empty = tmp_path / "empty.ann"
    empty.write_bytes(b"")
    with pytest.raises(OSError, match="not an index"):
        AnnoyIndex(2, "angular").load(str(empty))


def test_load_a_damaged_native_header_is_an_os_error(built, tmp_path):
    index, _ = built
    path = tmp_path / "damaged.ann"
    index.save(str(path))
    raw = bytearray(path.read_bytes())
    raw[40] ^= 0xFF  # inside the header, covered by its checksum
    path.write_bytes(bytes(raw))
    with pytest.raises(OSError) as info:
        AnnoyIndex(16, "angular").load(str(path))
    assert info.value.ann_status == "ANN_STATUS_CORRUPT_FILE"
    assert "ann_file_info" in str(info.value)


def test_verify_finds_a_damaged_body(built, tmp_path):
    index, _ = built
    path = tmp_path / "body.ann"
    index.save(str(path))
    raw = bytearray(path.read_bytes())
    raw[-100] ^= 0xFF
    path.write_bytes(bytes(raw))
    damaged = AnnoyIndex(16, "angular")
    damaged.load(str(path))  # O(1): checks the header only
    with pytest.raises(OSError, match="ann_verify: .*checksum"):
        damaged.verify()


@pytest.mark.parametrize("f, metric", [(15, "angular"), (16, "euclidean")])
def test_load_native_with_another_dim_or_metric_is_a_clear_error(built, tmp_path, f, metric):
    index, _ = built
    path = tmp_path / "a.ann"
    index.save(str(path))
    other = AnnoyIndex(f, metric)
    other.add_item(0, [1.0] * f)
    with pytest.raises(OSError, match=r"holds a angular index of dimension 16.*AnnoyIndex\(16, 'angular'\)"):
        other.load(str(path))
    assert other.get_n_items() == 1  # a failed load leaves the index as it was


def test_load_replaces_the_index_contents(built, tmp_path):
    index, data = built
    index.save(str(tmp_path / "a.ann"))
    other = AnnoyIndex(16, "angular")
    for i in range(5):
        other.add_item(i, data[i])
    other.load(str(tmp_path / "a.ann"))
    assert other.get_n_items() == 300


def test_save_maps_the_saved_file_like_annoy(built, tmp_path):
    index, _ = built
    index.save(str(tmp_path / "a.ann"))
    assert "mapped" in repr(index)
    with pytest.raises(Exception, match="unbuild: .*loaded"):
        index.unbuild()


def test_unload_resets_the_index(built, tmp_path):
    index, data = built
    index.save(str(tmp_path / "a.ann"))
    index.unload()
    assert (index.get_n_items(), index.get_n_trees()) == (0, 0)
    index.add_item(0, data[0])
    index.build(2)
    assert index.get_nns_by_item(0, 5) == [0]


def test_on_disk_build(tmp_path):
    data = dataset("euclidean", 200, 8)
    path = tmp_path / "disk.ann"
    index = AnnoyIndex(8, "euclidean")
    index.set_seed(42)
    index.on_disk_build(str(path))
    for i, row in enumerate(data):
        index.add_item(i, row)
    index.build(5)
    in_memory = build("euclidean", data, n_trees=5)
    loaded = AnnoyIndex(8, "euclidean")
    loaded.load(str(path))
    assert loaded.get_nns_by_item(3, 10) == index.get_nns_by_item(3, 10) == in_memory.get_nns_by_item(3, 10)
    assert ann.file_info(path).kind == "native"
    with pytest.raises(Exception, match="ann_add_item"):
        index.add_item(500, data[0])


def test_on_disk_build_in_a_missing_directory_is_an_os_error(tmp_path):
    with pytest.raises(OSError, match="ann_on_disk_build"):
        AnnoyIndex(2, "angular").on_disk_build(str(tmp_path / "nope" / "x.ann"))


def test_file_info(built, tmp_path):
    index, _ = built
    index.save(str(tmp_path / "a.ann"))
    index.save_annoy(str(tmp_path / "a.annoy"))
    (tmp_path / "odd").write_bytes(b"12345")
    native = ann.file_info(str(tmp_path / "a.ann"))
    assert (native.kind, native.metric, native.dim, native.n_items, native.n_trees) == (
        "native",
        "angular",
        16,
        300,
        10,
    )
    assert native.seed == 42
    assert native.file_size == (tmp_path / "a.ann").stat().st_size
    annoy = ann.file_info(str(tmp_path / "a.annoy"))
    assert (annoy.kind, annoy.metric, annoy.file_size) == (
        "annoy",
        None,
        (tmp_path / "a.annoy").stat().st_size,
    )
    assert ann.file_info(str(tmp_path / "odd")).kind == "unknown"
    with pytest.raises(OSError):
        ann.file_info(str(tmp_path / "missing"))


# -- header-less Annoy files -------------------------------------------------------------


def test_save_annoy_then_load_it_with_the_constructor_dim_and_metric(built, tmp_path):
    index, data = built
    path = tmp_path / "a.annoy"
    index.save_annoy(str(path))
    assert path.stat().st_size == ann.file_info(path).file_size
    loaded = AnnoyIndex(16, "angular")
    loaded.load(str(path))
    assert loaded.get_nns_by_item(0, 10, include_distances=True) == index.get_nns_by_item(
        0, 10, include_distances=True
    )
    assert (loaded.get_n_items(), loaded.get_n_trees()) == (300, 10)


def test_one_object_loads_an_annoy_file_then_a_native_file(built, tmp_path):
    index, data = built
    index.save_annoy(str(tmp_path / "a.annoy"))
    index.save(str(tmp_path / "a.ann"))
    expected = index.get_nns_by_vector(data[1], 10, include_distances=True)
    reader = AnnoyIndex(16, "angular")
    for name in ("a.annoy", "a.ann", "a.annoy"):
        reader.load(str(tmp_path / name))
        assert reader.get_nns_by_vector(data[1], 10, include_distances=True) == expected
        reader.unload()
        assert reader.get_n_items() == 0


def test_headerless_file_with_the_wrong_dim_is_a_clear_error(built, tmp_path):
    index, _ = built
    path = tmp_path / "a.annoy"
    index.save_annoy(str(path))
    size = path.stat().st_size
    # Angular nodes are 12 + 4 * f bytes: pick a wrong f whose node size does not divide the file.
    wrong = next(f for f in range(17, 64) if size % (12 + 4 * f))
    with pytest.raises(OSError, match="ann_load_annoy") as info:
        AnnoyIndex(wrong, "angular").load(str(path))
    assert info.value.ann_status == "ANN_STATUS_CORRUPT_FILE"
    assert "not a whole number" in str(info.value) and "check the dimension and metric" in str(info.value)


# -- pickling ----------------------------------------------------------------------------


def test_pickle_a_loaded_index_by_path(built, tmp_path):
    index, data = built
    index.save(str(tmp_path / "a.ann"))
    blob = pickle.dumps(index)
    assert len(blob) < 1000  # the path, not the data
    clone = pickle.loads(blob)
    assert clone.get_nns_by_vector(data[2], 10) == index.get_nns_by_vector(data[2], 10)
    assert "a.ann" in repr(clone)


def test_pickle_an_annoy_file_by_path(built, tmp_path):
    index, data = built
    index.save_annoy(str(tmp_path / "a.annoy"))
    reader = AnnoyIndex(16, "angular")
    reader.load(str(tmp_path / "a.annoy"))
    clone = pickle.loads(pickle.dumps(reader))
    assert clone.get_nns_by_item(4, 10) == reader.get_nns_by_item(4, 10)


def test_unpickling_checks_the_file_kind(built, tmp_path):
    index, _ = built
    path = tmp_path / "a.annoy"
    index.save_annoy(str(path))
    reader = AnnoyIndex(16, "angular")
    reader.load(str(path))
    blob = pickle.dumps(reader)
    reader.close()
    index.save(str(path))  # now a native file at the same path
    with pytest.raises(
        OSError, match="changed since the index was pickled: it was 'annoy', it is now 'native'"
    ):
        pickle.loads(blob)


def test_pickle_a_built_in_memory_index_by_value(built):
    index, data = built
    blob = pickle.dumps(index)
    assert len(blob) > 300 * 16 * 4

    def leftovers():
        return {name for name in os.listdir(tempfile.gettempdir()) if name.startswith("ann-unpickle-")}

    before = leftovers()
    clone = pickle.loads(blob)
    assert leftovers() <= before  # the temporary file is gone
    for q in data[:10]:
        assert clone.get_nns_by_vector(q, 10, include_distances=True) == index.get_nns_by_vector(
            q, 10, include_distances=True
        )
    again = pickle.loads(pickle.dumps(clone))  # its file was unlinked: it pickles by value again
    assert again.get_nns_by_item(0, 10) == index.get_nns_by_item(0, 10)


def test_pickle_an_unbuilt_index_by_items():
    data = dataset("euclidean", 40, 6)
    index = AnnoyIndex(6, "euclidean")
    index.set_seed(99)
    for i, row in enumerate(data):
        if i % 7 != 3:  # leave holes
            index.add_item(i, row)
    clone = pickle.loads(pickle.dumps(index))
    assert clone.get_n_items() == index.get_n_items() == 40
    assert clone.get_item_vector(5) == index.get_item_vector(5)
    with pytest.raises(IndexError):
        clone.get_item_vector(3)
    index.build(4)
    clone.build(4)  # the seed travelled with the items
    ids = [i for i in range(0, 40, 5) if i % 7 != 3]
    assert [clone.get_nns_by_item(i, 8) for i in ids] == [index.get_nns_by_item(i, 8) for i in ids]


def test_pickle_a_hamming_index():
    data = dataset("hamming", 50, 70)
    index = build("hamming", data)
    clone = pickle.loads(pickle.dumps(index))
    assert clone.get_nns_by_item(1, 5, include_distances=True) == index.get_nns_by_item(
        1, 5, include_distances=True
    )


def test_copy_and_deepcopy_use_pickling(built):
    index, _ = built
    for clone in (copy.copy(index), copy.deepcopy(index)):
        assert clone.get_nns_by_item(0, 5) == index.get_nns_by_item(0, 5)
        clone.close()
    assert index.get_n_items() == 300  # the original is untouched


class Subclass(AnnoyIndex):
    """Pickling must rebuild this class, not AnnoyIndex."""


def test_pickle_keeps_the_subclass():
    index = Subclass(2, "angular")
    index.add_item(0, [1, 0])
    assert type(pickle.loads(pickle.dumps(index))) is Subclass


def test_pickling_a_closed_index_is_an_error():
    index = AnnoyIndex(2, "angular")
    index.close()
    with pytest.raises(ValueError, match="closed"):
        pickle.dumps(index)
