"""Pickling an ``AnnoyIndex``: by reference for a file-backed index, by value otherwise.

A loaded (or saved) index pickles as its path, so unpickling maps the same file again, in
O(1), and one from ``load_shards`` as its paths. A built in-memory index pickles as the bytes
of its file, and an unbuilt one as its items and seed, so nothing is lost whatever the state.
"""

from __future__ import annotations

import array
import os
import tempfile
from ctypes import byref, c_float, c_uint64
from typing import TYPE_CHECKING, Any, Dict, Iterable, Type

from . import _args, _native
from ._native import call, lib

if TYPE_CHECKING:
    from .index import AnnoyIndex


def file_bytes(handle: int) -> bytes:
    """A built index as the bytes ``save`` would write."""
    with tempfile.TemporaryDirectory(prefix="ann-pickle-") as directory:
        path = os.path.join(directory, "index.ann")
        call(lib.ann_save, handle, os.fsencode(path))
        with open(path, "rb") as file:
            return file.read()


def items(handle: int, f: int, added: Iterable[int]) -> Dict[str, Any]:
    """Every item whose key is in ``added`` (the keys added, in any order, repeats allowed)
    as sorted keys plus one float32 block, and the seed."""
    vector = (c_float * f)()
    ids, blocks = [], []
    for i in sorted(set(added)):
        status = lib.ann_get_item_vector(handle, i, vector)
        if status == _native.STATUS_INVALID_ARGUMENT:
            continue  # not stored (any more)
        if status != _native.STATUS_OK:
            _native.raise_status(status)
        ids.append(i)
        blocks.append(bytes(vector))
    seed = c_uint64()
    call(lib.ann_get_seed, handle, byref(seed))
    return {"ids": ids, "vectors": b"".join(blocks), "seed": seed.value}


def restore(cls: "Type[AnnoyIndex]", state: Dict[str, Any]) -> "AnnoyIndex":
    """Rebuilds a pickled index (see ``AnnoyIndex.__reduce__``)."""
    index = cls(state["f"], state["metric"])
    index.verbose(state["verbose"])
    form = state["form"]
    if form == "shards":
        index.load_shards(state["paths"], state["prefault"])
    elif form == "file":
        index._load(_args.path(state["path"]), state["prefault"], expected_kind=state["kind"])
    elif form == "bytes":
        # The mapping outlives the unlinked file, so no temporary file is left behind.
        descriptor, path = tempfile.mkstemp(prefix="ann-unpickle-", suffix=".ann")
        try:
            with os.fdopen(descriptor, "wb") as file:
                file.write(state["data"])
            index.load(path)
        finally:
            os.unlink(path)
        index._path = None  # in memory as far as anyone can tell: pickle it by value again
    else:
        index.set_seed(state["seed"])
        vectors = array.array("f")
        vectors.frombytes(state["vectors"])
        f = index.f
        for n, i in enumerate(state["ids"]):
            index.add_item(i, vectors[n * f : (n + 1) * f])
    return index
