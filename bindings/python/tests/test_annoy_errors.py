"""Every error path of ``AnnoyIndex``, side by side with the real Annoy 1.17.3.

Each row of the table runs one call against ``annoy`` and against ``ann``. For a row marked
``Same``, both must return equal values or raise the same exception type; where the message
is Annoy's or Python's own (not a libann explanation) it must be equal too (``EXACT``), or
start ours (``PREFIX``: ann then adds the library's reason). A row marked ``Differs`` is a
deliberate difference, listed in README.md "Where ann differs from Annoy on purpose": ours
must raise the type given there, and Annoy's recorded behaviour is checked too, unless it
crashes the interpreter.
"""

from __future__ import annotations

import array
import os
import warnings
from pathlib import Path
from typing import Any, Callable, NamedTuple, Optional, Type, Union

import numpy as np
import pytest

import ann

try:
    import annoy
except ImportError as e:  # not installed, or installed but broken
    pytest.skip(
        f"comparing with Annoy needs it installed (pip install annoy==1.17.3): {e}", allow_module_level=True
    )

EXACT, PREFIX, TYPE_ONLY = "exact", "prefix", "type only"
RETURNS = "returns"  # Annoy returns normally where ann raises
CRASHES = "crashes"  # Annoy kills the interpreter (segfault, abort): never run it


class Same(NamedTuple):
    message: str = EXACT


class Differs(NamedTuple):
    ours: Optional[Type[BaseException]]  # None: ours returns normally
    annoy: Union[str, Type[BaseException]]
    why: str


class Outcome(NamedTuple):
    value: Any = None
    error: Optional[BaseException] = None


# -- fixtures, built the same way with either module --------------------------------------


def index(mod: Any, built: bool = True, n: int = 5) -> Any:
    """A 3-d euclidean index of ``n`` items: one leaf, so every query is exhaustive and the
    two libraries return the same ids."""
    x = mod.AnnoyIndex(3, "euclidean")
    for i in range(n):
        x.add_item(i, [i, 1, 2])
    if built:
        x.build(2)
    return x


def saved(mod: Any, tmp: Path) -> str:
    path = str(tmp / "saved.ann")
    index(mod).save(path)
    return path


def loaded(mod: Any, tmp: Path) -> Any:
    x = mod.AnnoyIndex(3, "euclidean")
    x.load(saved(mod, tmp))
    return x


def file_of(tmp: Path, content: bytes) -> str:
    path = tmp / f"file-{len(content)}.bin"
    path.write_bytes(content)
    return str(path)


class LenOnly:
    def __len__(self) -> int:
        return 3


class BadItems:
    def __len__(self) -> int:
        return 3

    def __getitem__(self, i: int) -> float:
        raise RuntimeError("no items here")


class NegativeLen:
    def __len__(self) -> int:
        return -1


def numbers():
    yield from (1.0, 2.0, 3.0)


# Values that are not what an argument needs, per kind of argument.
NOT_INTS = {"None": None, "str": "1", "float": 1.0, "object": object()}
TOO_BIG = {"2**31": 2**31, "-2**31-1": -(2**31) - 1, "2**63": 2**63, "2**64": 2**64, "2**70": 2**70}
# Ids are 64-bit keys in ann: of the ints too big for Annoy's C int, these are valid keys...
NOW_KEYS = {"2**31": 2**31, "2**63": 2**63}
# ... and these are not: Annoy's OverflowError, with its message.
NOT_KEYS = {label: value for label, value in TOO_BIG.items() if label not in NOW_KEYS}
KEYS_WHY = "ids are 64-bit keys from 0 to 2**64 - 2; Annoy takes a C int"
# 2**64 - 1 is reserved ("no key"): OverflowError like Annoy's, with ann's own message.
RESERVED = 2**64 - 1
NOT_VECTORS = {
    "None": lambda: None,
    "float": lambda: 1.0,
    "int": lambda: 5,
    "object": lambda: object(),
    "generator": numbers,
    "set": lambda: {1.0, 2.0, 3.0},
    "str": lambda: "abc",
    "str items": lambda: ["a", "b", "c"],
    "None item": lambda: [None, 1, 2],
    "list item": lambda: [1, 2, [3]],
    "complex item": lambda: [1j, 1, 2],
    "int too large for a float": lambda: [10**400, 1, 2],
    "dict without the keys": lambda: {"a": 1, "b": 2, "c": 3},
    "len without getitem": LenOnly,
    "getitem that raises": BadItems,
    "negative len": NegativeLen,
    "numpy str array": lambda: np.array(["a", "b", "c"]),
    "numpy object array with None": lambda: np.array([None, 1, 2], dtype=object),
    "too short": lambda: [1, 2],
    "too long": lambda: [1, 2, 3, 4],
    "empty": lambda: [],
    "dict of the wrong length": lambda: {"a": 1},
    "0-d numpy array": lambda: np.zeros(()),
}
GOOD_VECTORS = {
    "tuple": lambda: (1, 2, 3),
    "range": lambda: range(3),
    "dict keyed 0..f-1": lambda: {0: 1.0, 1: 2.0, 2: 3.0},
    "bytes": lambda: b"abc",
    "array.array": lambda: array.array("d", [1, 2, 3]),
    "numpy float64": lambda: np.array([1.0, 2.0, 3.0]),
    "numpy bool": lambda: np.array([True, False, True]),
}
BAD_PATH_TYPES = {"None": None, "int": 3, "object": object()}
BAD_FLAGS = {"None": None, "str": "x", "float": 2.0, "object": object()}


def bad_paths(tmp: Path) -> dict:
    return {
        "empty": "",
        "root": "/",
        "a directory": str(tmp),
        "in a missing directory": "/nonexistent/dir/x.ann",
    }


CASES: dict = {}


def case(name: str, check: Union[Same, Differs], fn: Callable[[Any, Path], Any]) -> None:
    assert name not in CASES, name
    CASES[name] = (check, fn)


# -- the constructor -----------------------------------------------------------------------

for label, value in NOT_INTS.items():
    case(f"AnnoyIndex(f={label})", Same(), lambda m, t, v=value: m.AnnoyIndex(v, "euclidean"))
for label, value in TOO_BIG.items():
    case(f"AnnoyIndex(f={label})", Same(), lambda m, t, v=value: m.AnnoyIndex(v, "euclidean"))
for label, value in {"None": None, "int": 3, "bytes": b"euclidean"}.items():
    case(f"AnnoyIndex(metric={label})", Same(), lambda m, t, v=value: m.AnnoyIndex(3, v))
    case(f"AnnoyIndex(metric={label}) by keyword", Same(), lambda m, t, v=value: m.AnnoyIndex(3, metric=v))
for name in ("bogus", "", "EUCLIDEAN", "euclidean "):
    case(f"AnnoyIndex(metric={name!r})", Same(PREFIX), lambda m, t, v=name: m.AnnoyIndex(3, v))
case("AnnoyIndex(metric with a NUL)", Same(), lambda m, t: m.AnnoyIndex(3, "euclidean\0x"))
case("AnnoyIndex() without f", Same(TYPE_ONLY), lambda m, t: m.AnnoyIndex())
case("AnnoyIndex(f=True)", Same(), lambda m, t: m.AnnoyIndex(True, "euclidean").f)
case("AnnoyIndex(f, metric) by keyword", Same(), lambda m, t: m.AnnoyIndex(f=3, metric="dot").f)
case(
    "AnnoyIndex(f=0)",
    Differs(ValueError, RETURNS, "an index of vectors with no values is an error, not an empty index"),
    lambda m, t: m.AnnoyIndex(0, "euclidean").f,
)
case(
    "AnnoyIndex(f=-1)",
    Differs(ValueError, RETURNS, "a negative dimension is an error"),
    lambda m, t: m.AnnoyIndex(-1, "euclidean").f,
)
case(
    "AnnoyIndex(f=2**24 + 1)",
    Differs(ValueError, RETURNS, "libann caps the dimension at 2**24 floats per vector"),
    lambda m, t: m.AnnoyIndex(2**24 + 1, "euclidean").f,
)
case(
    "AnnoyIndex(metric='cosine')",
    Differs(None, ValueError, "'cosine' is accepted as another name for 'angular'"),
    lambda m, t: m.AnnoyIndex(3, "cosine").f,
)

# -- add_item ------------------------------------------------------------------------------

for label, value in NOT_INTS.items():
    case(f"add_item(i={label})", Same(), lambda m, t, v=value: index(m, False).add_item(v, [1, 2, 3]))
for label, value in NOT_KEYS.items():
    case(f"add_item(i={label})", Same(), lambda m, t, v=value: index(m, False).add_item(v, [1, 2, 3]))
for label, value in NOW_KEYS.items():
    case(
        f"add_item(i={label})",
        Differs(None, OverflowError, KEYS_WHY),
        lambda m, t, v=value: index(m, False).add_item(v, [1, 2, 3]),
    )
case(
    "add_item(i=2**64 - 1)",
    Same(TYPE_ONLY),
    lambda m, t: index(m, False).add_item(RESERVED, [1, 2, 3]),
)
case(
    "add_item(i=2**40), then read it back and query by it",
    Differs(None, OverflowError, KEYS_WHY),
    lambda m, t: (
        lambda x: (
            x.add_item(2**40, [9, 9, 9]),
            x.build(2),
            x.get_item_vector(2**40),
            x.get_nns_by_item(2**40, 1),
        )
    )(index(m, False)),
)
case("add_item(i=-1)", Same(), lambda m, t: index(m, False).add_item(-1, [1, 2, 3]))
case(
    "add_item(i=-1) checks the id before the vector", Same(), lambda m, t: index(m, False).add_item(-1, None)
)
case("add_item(i=True)", Same(), lambda m, t: index(m, False).add_item(True, [1, 2, 3]))
for label, make in NOT_VECTORS.items():
    case(f"add_item(vector={label})", Same(), lambda m, t, mk=make: index(m, False).add_item(0, mk()))
for label, make in GOOD_VECTORS.items():
    case(
        f"add_item(vector={label})",
        Same(),
        lambda m, t, mk=make: (lambda x: (x.add_item(9, mk()), x.get_item_vector(9)))(index(m, False)),
    )
case("add_item without a vector", Same(TYPE_ONLY), lambda m, t: index(m, False).add_item(0))
case(
    "add_item with too many arguments",
    Same(TYPE_ONLY),
    lambda m, t: index(m, False).add_item(0, [1, 2, 3], 4),
)
case("add_item by keyword", Same(), lambda m, t: index(m, False).add_item(i=0, vector=[1, 2, 3]))
case("add_item to a loaded index", Same(PREFIX), lambda m, t: loaded(m, t).add_item(9, [1, 2, 3]))
case(
    "add_item after unload",
    Same(),
    lambda m, t: (lambda x: (x.unload(), x.add_item(0, [1, 2, 3]), x.get_n_items()))(loaded(m, t)),
)
case(
    "add_item(i=2**31 - 1)",
    Differs(None, CRASHES, "ids are 64-bit keys; Annoy segfaults allocating 2**31 items"),
    lambda m, t: index(m, False).add_item(2**31 - 1, [1, 2, 3]),
)
for label, value in {
    "NaN": float("nan"),
    "inf": float("inf"),
    "a float too large for float32": 1e300,
}.items():
    case(
        f"add_item(vector with {label})",
        Differs(ValueError, RETURNS, "a vector must be finite; Annoy indexes it and its queries go wrong"),
        lambda m, t, v=value: index(m, False).add_item(0, [v, 1, 2]),
    )
case(
    "add_item(vector=2-d numpy array of f rows)",
    Differs(IndexError, TypeError, "a matrix is not a vector: its shape is reported as a wrong length"),
    lambda m, t: index(m, False).add_item(0, np.zeros((3, 3))),
)
case(
    "add_item to a built index",
    Differs(Exception, RETURNS, "Annoy silently corrupts a built index it adds to; call unbuild first"),
    lambda m, t: index(m).add_item(9, [1, 2, 3]),
)

# -- build, unbuild, unload ---------------------------------------------------------------

for argument in ("n_trees", "n_jobs"):
    for label, value in NOT_INTS.items():
        case(
            f"build({argument}={label})",
            Same(),
            lambda m, t, a=argument, v=value: index(m, False).build(**{"n_trees": 2, a: v}),
        )
    for label, value in TOO_BIG.items():
        case(
            f"build({argument}={label})",
            Same(),
            lambda m, t, a=argument, v=value: index(m, False).build(**{"n_trees": 2, a: v}),
        )
case("build without n_trees", Same(TYPE_ONLY), lambda m, t: index(m, False).build())
case("build(n_trees=-1)", Same(), lambda m, t: index(m, False).build(-1))
case("build an empty index", Same(), lambda m, t: m.AnnoyIndex(3, "euclidean").build(2))
case("build twice", Same(PREFIX), lambda m, t: index(m).build(2))
case("build a loaded index", Same(PREFIX), lambda m, t: loaded(m, t).build(2))
case("unbuild a loaded index", Same(PREFIX), lambda m, t: loaded(m, t).unbuild())
case("unbuild an unbuilt index", Same(), lambda m, t: index(m, False).unbuild())
case("unbuild, then count trees", Same(), lambda m, t: (lambda x: (x.unbuild(), x.get_n_trees()))(index(m)))
case("unload a fresh index", Same(), lambda m, t: m.AnnoyIndex(3, "euclidean").unload())
case(
    "unload a loaded index",
    Same(),
    lambda m, t: (lambda x: (x.unload(), x.get_n_items(), x.get_n_trees()))(loaded(m, t)),
)
for label, value in {"0": 0, "-2": -2}.items():
    case(
        f"build(n_trees={label})",
        Differs(ValueError, RETURNS, "n_trees is -1 (automatic) or at least 1"),
        lambda m, t, v=value: index(m, False).build(v),
    )
case(
    "build(n_jobs=0)",
    Differs(ValueError, RETURNS, "n_jobs is -1 (every core) or at least 1"),
    lambda m, t: index(m, False).build(2, 0),
)
case(
    "build(n_jobs=-2)",
    Differs(ValueError, CRASHES, "n_jobs is -1 (every core) or at least 1; Annoy aborts"),
    lambda m, t: index(m, False).build(2, -2),
)

# -- queries ------------------------------------------------------------------------------

BY_ITEM = {"i": 0, "n": 2, "search_k": -1, "include_distances": False}
BY_VECTOR = {"vector": [1, 2, 3], "n": 2, "search_k": -1, "include_distances": False}


def by_item(m: Any, **changes: Any) -> Any:
    return index(m).get_nns_by_item(**{**BY_ITEM, **changes})


def by_vector(m: Any, **changes: Any) -> Any:
    return index(m).get_nns_by_vector(**{**BY_VECTOR, **changes})


for argument in ("i", "n", "search_k", "include_distances"):
    for label, value in {**NOT_INTS, **(NOT_KEYS if argument == "i" else TOO_BIG)}.items():
        case(
            f"get_nns_by_item({argument}={label})",
            Same(),
            lambda m, t, a=argument, v=value: by_item(m, **{a: v}),
        )
for label, value in NOW_KEYS.items():
    case(
        f"get_nns_by_item(i={label})",
        Differs(IndexError, OverflowError, f"{KEYS_WHY}: past the largest key, as for other ids"),
        lambda m, t, v=value: by_item(m, i=v),
    )
case("get_nns_by_item(i=2**64 - 1)", Same(TYPE_ONLY), lambda m, t: by_item(m, i=RESERVED))
for argument in ("n", "search_k", "include_distances"):
    for label, value in {**NOT_INTS, **TOO_BIG}.items():
        case(
            f"get_nns_by_vector({argument}={label})",
            Same(),
            lambda m, t, a=argument, v=value: by_vector(m, **{a: v}),
        )
for label, make in {**NOT_VECTORS, **GOOD_VECTORS}.items():
    case(f"get_nns_by_vector(vector={label})", Same(), lambda m, t, mk=make: by_vector(m, vector=mk()))
for label, value in {"-1": -1, "past the end": 5}.items():
    case(f"get_nns_by_item(i={label})", Same(), lambda m, t, v=value: by_item(m, i=v))
case("get_nns_by_item(i=-1, n=None) parses before checking", Same(), lambda m, t: by_item(m, i=-1, n=None))
case("get_nns_by_vector(None, n=None) parses n first", Same(), lambda m, t: by_vector(m, vector=None, n=None))
case("get_nns_by_item(n=0)", Same(), lambda m, t: by_item(m, n=0))
case("get_nns_by_item(search_k=0)", Same(), lambda m, t: by_item(m, search_k=0))
case("get_nns_by_item(include_distances=2)", Same(), lambda m, t: by_item(m, include_distances=2))
case("get_nns_by_item(include_distances=-1)", Same(), lambda m, t: by_item(m, include_distances=-1))
case(
    "get_nns_by_item on an empty index",
    Same(),
    lambda m, t: m.AnnoyIndex(3, "euclidean").get_nns_by_item(0, 2),
)
case(
    "get_nns_by_item with too many arguments",
    Same(TYPE_ONLY),
    lambda m, t: index(m).get_nns_by_item(0, 2, -1, True, 1),
)
for label, query in {
    "get_nns_by_item on an unbuilt index": lambda m: index(m, False).get_nns_by_item(0, 2),
    "get_nns_by_vector on an unbuilt index": lambda m: index(m, False).get_nns_by_vector([1, 2, 3], 2),
    "get_nns_by_vector on an empty index": lambda m: m.AnnoyIndex(3, "euclidean").get_nns_by_vector(
        [1, 2, 3], 2
    ),
}.items():
    case(
        label,
        Differs(Exception, RETURNS, "querying an unbuilt index is an error, not []"),
        lambda m, t, q=query: q(m),
    )
for label, call in {
    "get_nns_by_item(n=-1)": lambda m: by_item(m, n=-1),
    "get_nns_by_vector(n=-1)": lambda m: by_vector(m, n=-1),
}.items():
    case(
        label,
        Differs(ValueError, RETURNS, "n must be at least 0; Annoy returns every item"),
        lambda m, t, c=call: c(m),
    )
for label, call in {
    "get_nns_by_item(search_k=-2)": lambda m: by_item(m, search_k=-2),
    "get_nns_by_vector(search_k=-2)": lambda m: by_vector(m, search_k=-2),
}.items():
    case(
        label,
        Differs(
            ValueError, RETURNS, "search_k must be -1 (default) or at least 0; Annoy searches everything"
        ),
        lambda m, t, c=call: c(m),
    )
for label, value in {"NaN": float("nan"), "inf": float("inf")}.items():
    case(
        f"get_nns_by_vector(vector with {label})",
        Differs(ValueError, RETURNS, "a query must be finite"),
        lambda m, t, v=value: by_vector(m, vector=[v, 1, 2]),
    )

# -- reading items ------------------------------------------------------------------------

for label, value in {**NOT_INTS, **NOT_KEYS, "-1": -1, "past the end": 5}.items():
    case(f"get_item_vector(i={label})", Same(), lambda m, t, v=value: index(m).get_item_vector(v))
    case(f"get_distance(i={label})", Same(), lambda m, t, v=value: index(m).get_distance(v, 0))
    case(f"get_distance(j={label})", Same(), lambda m, t, v=value: index(m).get_distance(0, v))
for label, value in NOW_KEYS.items():
    past = Differs(IndexError, OverflowError, f"{KEYS_WHY}: past the largest key, as for other ids")
    case(f"get_item_vector(i={label})", past, lambda m, t, v=value: index(m).get_item_vector(v))
    case(f"get_distance(i={label})", past, lambda m, t, v=value: index(m).get_distance(v, 0))
    case(f"get_distance(j={label})", past, lambda m, t, v=value: index(m).get_distance(0, v))
case("get_item_vector(i=2**64 - 1)", Same(TYPE_ONLY), lambda m, t: index(m).get_item_vector(RESERVED))
case("get_distance(i=2**64 - 1)", Same(TYPE_ONLY), lambda m, t: index(m).get_distance(RESERVED, 0))
case("get_item_vector by keyword", Same(TYPE_ONLY), lambda m, t: index(m).get_item_vector(i=0))
case(
    "get_item_vector on an empty index", Same(), lambda m, t: m.AnnoyIndex(3, "euclidean").get_item_vector(0)
)
case("get_distance on an unbuilt index", Same(), lambda m, t: index(m, False).get_distance(0, 1))
case("get_n_items with an argument", Same(TYPE_ONLY), lambda m, t: index(m).get_n_items(1))
case("get_n_items on an unbuilt index", Same(), lambda m, t: index(m, False).get_n_items())
case("get_n_trees on an unbuilt index", Same(), lambda m, t: index(m, False).get_n_trees())
case(
    "get_item_vector of an id never added",
    Differs(IndexError, RETURNS, "an id never added is an IndexError; Annoy returns zeros"),
    lambda m, t: (lambda x: (x.add_item(10, [1, 2, 3]), x.get_item_vector(7)))(index(m, False)),
)

# -- seed and verbose ---------------------------------------------------------------------

for label, value in NOT_INTS.items():
    case(f"set_seed({label})", Same(), lambda m, t, v=value: index(m, False).set_seed(v))
    case(f"verbose({label})", Same(), lambda m, t, v=value: index(m, False).verbose(v))
for label, value in {"2**31": 2**31, "-2**31-1": -(2**31) - 1, "2**63": 2**63}.items():
    case(f"verbose({label})", Same(), lambda m, t, v=value: index(m, False).verbose(v))
case("set_seed(-1)", Same(), lambda m, t: index(m, False).set_seed(-1))
case("verbose(2)", Same(), lambda m, t: index(m, False).verbose(2))
for label, value in {"2**32": 2**32, "2**64 - 1": 2**64 - 1, "-2**63": -(2**63)}.items():
    case(
        f"set_seed({label})",
        Differs(None, OverflowError, "any 64-bit seed is accepted; Annoy takes a C int"),
        lambda m, t, v=value: index(m, False).set_seed(v),
    )

# -- files --------------------------------------------------------------------------------

for label, value in BAD_PATH_TYPES.items():
    case(f"save({label})", Same(TYPE_ONLY), lambda m, t, v=value: index(m).save(v))
    case(f"load({label})", Same(TYPE_ONLY), lambda m, t, v=value: m.AnnoyIndex(3, "euclidean").load(v))
    case(
        f"on_disk_build({label})",
        Same(TYPE_ONLY),
        lambda m, t, v=value: m.AnnoyIndex(3, "euclidean").on_disk_build(v),
    )
for label in bad_paths(Path("/")):
    case(f"save(path: {label})", Same(TYPE_ONLY), lambda m, t, k=label: index(m).save(bad_paths(t)[k]))
    case(
        f"load(path: {label})",
        Same(TYPE_ONLY),
        lambda m, t, k=label: m.AnnoyIndex(3, "euclidean").load(bad_paths(t)[k]),
    )
    if label != "root":  # Annoy would truncate whatever it could open there
        case(
            f"on_disk_build(path: {label})",
            Same(TYPE_ONLY),
            lambda m, t, k=label: m.AnnoyIndex(3, "euclidean").on_disk_build(bad_paths(t)[k]),
        )
case("save(path with a NUL)", Same(TYPE_ONLY), lambda m, t: index(m).save("x\0y"))
case("load(path with a NUL)", Same(TYPE_ONLY), lambda m, t: m.AnnoyIndex(3, "euclidean").load("x\0y"))
case("save(to a file that cannot be written)", Same(TYPE_ONLY), lambda m, t: index(m).save("/proc/version"))
case("save an unbuilt index", Same(PREFIX), lambda m, t: index(m, False).save(str(t / "u.ann")))
case("save an empty index", Same(PREFIX), lambda m, t: m.AnnoyIndex(3, "euclidean").save(str(t / "e.ann")))
case(
    "save a loaded index",
    Same(),
    lambda m, t: (lambda x: (x.save(str(t / "again.ann")), x.get_n_items()))(loaded(m, t)),
)
for label, value in BAD_FLAGS.items():
    case(f"save(prefault={label})", Same(), lambda m, t, v=value: index(m).save(str(t / "p.ann"), v))
    case(
        f"load(prefault={label})",
        Same(),
        lambda m, t, v=value: m.AnnoyIndex(3, "euclidean").load(saved(m, t), v),
    )
for label, value in {"256": 256, "-1": -1, "2**40": 2**40, "2**70": 2**70}.items():
    case(f"save(prefault={label})", Same(), lambda m, t, v=value: index(m).save(str(t / "p.ann"), v))
    case(
        f"load(prefault={label})",
        Same(),
        lambda m, t, v=value: m.AnnoyIndex(3, "euclidean").load(saved(m, t), v),
    )
case("load(prefault=True)", Same(), lambda m, t: m.AnnoyIndex(3, "euclidean").load(saved(m, t), True))
for label, content in {"12 bytes of text": b"hello world!", "3 bytes": b"abc", "an empty file": b""}.items():
    case(
        f"load({label})",
        Same(TYPE_ONLY),
        lambda m, t, c=content: m.AnnoyIndex(3, "euclidean").load(file_of(t, c)),
    )
case("load with the wrong f", Same(TYPE_ONLY), lambda m, t: m.AnnoyIndex(4, "euclidean").load(saved(m, t)))
case(
    "load a missing file keeps the index",
    Same(),
    lambda m, t: (lambda x: (outcome(lambda: x.load(str(t / "no"))).error.__class__, x.get_n_items()))(
        index(m)
    ),
)
case("load into a built index", Same(), lambda m, t: (lambda p: index(m).load(p))(saved(m, t)))
case(
    "load twice",
    Same(),
    lambda m, t: (lambda x, p: (x.load(p), x.load(p), x.get_n_items()))(
        m.AnnoyIndex(3, "euclidean"), saved(m, t)
    ),
)
case("on_disk_build after adding", Same(), lambda m, t: index(m, False).on_disk_build(str(t / "od.ann")))
for label, fn in {
    "save(bytes path)": lambda m, t: index(m).save(os.fsencode(t / "b.ann")),
    "save(pathlib.Path)": lambda m, t: index(m).save(t / "p.ann"),
    "load(pathlib.Path)": lambda m, t: m.AnnoyIndex(3, "euclidean").load(Path(saved(m, t))),
}.items():
    case(label, Differs(None, TypeError, "paths may be str, bytes or os.PathLike; Annoy takes str only"), fn)
case(
    "save(empty bytes path)",
    Differs(OSError, TypeError, "paths may be bytes; an empty one names no file"),
    lambda m, t: index(m).save(b""),
)
case(
    "on_disk_build after build",
    Differs(
        Exception, RETURNS, "on_disk_build comes before build; Annoy truncates the file under a built index"
    ),
    lambda m, t: index(m).on_disk_build(str(t / "late.ann")),
)
case(
    "set_seed on a loaded index",
    Differs(Exception, RETURNS, "a loaded index keeps the seed it was built with; Annoy ignores the call"),
    lambda m, t: loaded(m, t).set_seed(5),
)


# -- running the table --------------------------------------------------------------------


def outcome(fn: Callable[[], Any]) -> Outcome:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            return Outcome(value=fn())
        except Exception as e:  # the exception is the result under test
            return Outcome(error=e)


def same_type(ours: BaseException, theirs: BaseException) -> bool:
    """Exactly Annoy's type; an out-of-range int is ann's IntegerOverflow, an OverflowError."""
    if type(theirs) is OverflowError:
        return isinstance(ours, OverflowError)
    return type(ours) is type(theirs)


def comparable(value: Any) -> Any:
    """Return values as plain data: indexes are compared by identity-free facts."""
    if isinstance(value, tuple):
        return tuple(comparable(v) for v in value)
    if isinstance(value, (ann.AnnoyIndex, annoy.AnnoyIndex)):
        return "an index"
    return value


@pytest.mark.parametrize("name", list(CASES))
def test_like_annoy(name: str, tmp_path: Path) -> None:
    check, fn = CASES[name]
    (tmp_path / "annoy").mkdir()
    (tmp_path / "ann").mkdir()
    ours = outcome(lambda: fn(ann, tmp_path / "ann"))
    if isinstance(check, Differs):
        if check.ours is None:
            assert ours.error is None, f"ours raised {ours.error!r}"
        else:
            assert type(ours.error) is check.ours, f"ours gave {ours}"
        if check.annoy == CRASHES:
            return
        theirs = outcome(lambda: fn(annoy, tmp_path / "annoy"))
        if check.annoy == RETURNS:
            assert theirs.error is None, f"Annoy raised {theirs.error!r}: not a difference any more"
        else:
            assert type(theirs.error) is check.annoy, f"Annoy gave {theirs}"
        return

    theirs = outcome(lambda: fn(annoy, tmp_path / "annoy"))
    if theirs.error is None:
        assert ours.error is None, f"Annoy returned {theirs.value!r}, ours raised {ours.error!r}"
        assert comparable(ours.value) == comparable(theirs.value)
        return
    assert ours.error is not None, f"Annoy raised {theirs.error!r}, ours returned {ours.value!r}"
    assert same_type(ours.error, theirs.error), f"Annoy raised {theirs.error!r}, ours {ours.error!r}"
    if check.message == EXACT:
        assert str(ours.error) == str(theirs.error)
    elif check.message == PREFIX:
        assert str(ours.error).startswith(f"{theirs.error}: "), f"{ours.error} vs {theirs.error}"


def test_the_table_covers_every_annoy_method() -> None:
    methods = {m for m in dir(annoy.AnnoyIndex) if not m.startswith("_") and m != "f"}
    covered = {m for m in methods if any(m in name for name in CASES)}
    assert not methods - covered, sorted(methods - covered)
