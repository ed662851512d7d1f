"""The bad-input matrix: every public entry point of the package, every argument, every state.

README.md "Bad input: what you get" summarises it; include/ann_errors.md is the C-level table.
Three tables, each checked against the package by introspection, so that a public method or
an argument added later fails ``test_the_tables_cover_the_public_api`` until it is added here:

- ``ENTRIES``: each public callable (``ann.AnnoyIndex``, ``ann.Writer``,
  ``ann.SearchOptions``, their public methods, ``ann.open``, ``ann.file_info``), what to call it
  on and valid arguments, and the kind of each parameter (``inspect.signature`` must list
  exactly those). ``KINDS`` gives, per kind, the bad values (None always among them) and what
  each must give: an exception of exactly that class whose message says what is wrong, or a
  documented success (n = 0, a huge search_k, dim 65,536...). A case replaces one argument.
- ``STATES``: each ``AnnoyIndex`` method in each state an index can be in (empty, items added,
  built, loaded, shards, a live directory's reader, a writer's read handle); and every public
  method of a closed index, writer and options object (the closed error; ``close`` a no-op).
- ``COMBINATIONS``: bad input that is a mix of arguments (two keys but one vector...).

After every failure, each object the case used (and a bystander index) must answer a query
exactly as it did before the case, so a failure never leaves an index changed or unusable.
Warnings are errors, except where a case expects one: nothing is dropped silently.
"""

from __future__ import annotations

import inspect
import math
import re
import warnings
from pathlib import Path
from typing import Any, Callable, Dict, List, NamedTuple, Optional, Tuple, Type, Union

import numpy as np
import pytest

import ann
from ann import AnnoyIndex, IntegerOverflow, SearchOptions, Writer

ComplexWarning = getattr(np, "exceptions", np).ComplexWarning

# -- data ---------------------------------------------------------------------------------

F = {"euclidean": 3, "hamming": 70}
KEYS = [k for k in range(20) if k != 7]  # 7 is a hole: below the largest key, never added
_rng = np.random.default_rng(11)
DATA = {
    "euclidean": {k: _rng.standard_normal(3).astype(np.float32).tolist() for k in KEYS},
    "hamming": {k: (_rng.random(70) > 0.5).astype(np.float32).tolist() for k in KEYS},
}
Q = {"euclidean": [0.25, -0.5, 0.75], "hamming": [float(b % 3 == 0) for b in range(70)]}
V = [0.5, 0.25, -1.0]  # a vector to add
WORDS = [0b1011, 1]  # a hamming vector of 70 bits as packed words
NAN, INF = math.nan, math.inf

INT = "cannot be interpreted as an integer"
PATH_TYPE = r"expected str, bytes or os\.PathLike object, not"


def exact(query: List[float], n: int) -> List[int]:
    """The true nearest keys of ``query`` (euclidean), as an exhaustive search returns them."""
    x = np.array([DATA["euclidean"][k] for k in KEYS], dtype=np.float64)
    order = np.argsort(np.linalg.norm(x - np.asarray(query, dtype=np.float64), axis=1), kind="stable")
    return [KEYS[i] for i in order[:n]]


def ids_of(result: Any) -> List[int]:
    """The keys of a query result: a list, ``(ids, distances)``, or a batch's first row."""
    if isinstance(result, tuple):
        result = result[0]
    if isinstance(result, np.ndarray):
        result = result[0].tolist() if result.ndim == 2 else result.tolist()
    elif result and isinstance(result[0], list):
        result = result[0]
    return [int(k) for k in result if k >= 0]


# -- outcomes -----------------------------------------------------------------------------


class Raises(NamedTuple):
    """An exception of exactly this class, whose message contains a match of ``match``."""

    error: Type[BaseException]
    match: str


class Returns(NamedTuple):
    """Success; ``check(result, args, env)`` must be true. ``warns``: the warning it must give."""

    check: Optional[Callable[[Any, Dict[str, Any], "Env"], Any]] = None
    warns: Optional[Type[Warning]] = None


Outcome = Union[Raises, Returns]
OK = Returns()


class Lazy(NamedTuple):
    """An argument made per case (a fresh path, a closed object...)."""

    make: Callable[["Env"], Any]


class Bad(NamedTuple):
    label: str
    value: Any
    outcome: Outcome


class Kind(NamedTuple):
    none: Outcome  # what None gives: every parameter is tried with None
    bad: Tuple[Bad, ...]


def no_results(result: Any, args: Dict[str, Any], env: "Env") -> bool:
    return ids_of(result) == [] and (not isinstance(result, np.ndarray) or result.size == 0)


def every_item(result: Any, args: Dict[str, Any], env: "Env") -> bool:
    return sorted(ids_of(result)) == KEYS


def unpack(words: List[int], f: int) -> List[float]:
    return [float(words[b // 64] >> (b % 64) & 1) for b in range(f)]


def true_distances(metric: str, query: List[float]) -> Dict[int, float]:
    x, q = DATA[metric], np.asarray(query, dtype=np.float64)
    if metric == "hamming":
        return {k: float(np.count_nonzero((np.asarray(x[k]) > 0.5) != (q > 0.5))) for k in KEYS}
    return {k: float(np.linalg.norm(np.asarray(x[k], dtype=np.float64) - q)) for k in KEYS}


def is_exact(result: Any, args: Dict[str, Any], env: "Env") -> bool:
    """The exhaustive answer for the call's query and n (a huge search_k or ef), ties allowed:
    the distances of the keys found are the n smallest."""
    metric = "hamming" if "words" in args else "euclidean"
    if "words" in args:
        query = unpack(args["words"], F["hamming"])
    elif "vector" in args:
        query = args["vector"]
    elif "vectors" in args:
        query = args["vectors"][0]
    else:
        query = DATA[metric][args["i"]]
    truth = true_distances(metric, query)
    found = [truth[k] for k in ids_of(result)]
    best = sorted(truth.values())[: args["n"]]
    return len(found) == len(best) and all(math.isclose(a, b, rel_tol=1e-5) for a, b in zip(found, best))


def usable(obj: Any, args: Dict[str, Any], env: "Env") -> bool:
    """A new index or writer of the dim asked for works (up to 65,536; larger ones are only made)."""
    f = args.get("f", 3)
    try:
        if f > 65536:
            return obj.f == f
        if isinstance(obj, Writer):
            obj.upsert(5, [0.5] * f)
            with obj.index() as index:
                return index.search([0.5] * f, 2) == [5]
        obj.add_item(5, [0.5] * f)
        obj.build(1)
        return obj.get_nns_by_vector([0.5] * f, 2) == [5] and obj.metric in ("euclidean", "angular")
    finally:
        obj.close()


def options_work(options: SearchOptions, args: Dict[str, Any], env: "Env") -> bool:
    """Options made with a huge search_k or ef search exhaustively; with None, as the defaults."""
    with options:
        found = env.get("graph").search(Q["euclidean"], 3, options)
    return found == exact(Q["euclidean"], 3)


def equals(expected: Any) -> Callable[[Any, Dict[str, Any], "Env"], bool]:
    return lambda result, args, env: result == expected


def kind_is(kind: str) -> Callable[[Any, Dict[str, Any], "Env"], bool]:
    return lambda result, args, env: result.kind == kind


# -- kinds of parameters: the bad values, and what each gives -----------------------------

NOT_INT = (Bad("str", "3", Raises(TypeError, INT)), Bad("float", 3.0, Raises(TypeError, INT)))
C_INT_LIMIT = (
    Bad("2**31", 2**31, Raises(IntegerOverflow, "greater than maximum")),
    Bad("-2**31 - 1", -(2**31) - 1, Raises(IntegerOverflow, "less than minimum")),
)
TYPE_NONE = Raises(TypeError, INT)
KEY_TYPES = (*NOT_INT, Bad("2**64 - 1", 2**64 - 1, Raises(IntegerOverflow, "reserved")))


def key_lists(name: str) -> Tuple[Bad, ...]:
    """Bad lists of keys (allow, deny, a writer's batches), each of one element."""
    return (
        Bad("str", "ab", Raises(TypeError, f"{name} must be an iterable of int keys, not str")),
        Bad("int", 5, Raises(TypeError, f"{name} must be an iterable of int keys, not int")),
        Bad("[float]", [1.5], Raises(TypeError, rf"{name}\[0\] is float, not an int key")),
        Bad("[None]", [None], Raises(TypeError, rf"{name}\[0\] is NoneType")),
        Bad("[str]", ["1"], Raises(TypeError, rf"{name}\[0\] is str")),
        Bad("[-1]", [-1], Raises(ValueError, rf"{name}\[0\] is -1: keys are 0 to 2\*\*64 - 2")),
        Bad("[2**64]", [2**64], Raises(ValueError, rf"{name}\[0\] is {2**64}")),
        Bad(
            "[2**64 - 1]", [2**64 - 1], Raises(ValueError, rf"{name}\[0\] is 2\*\*64 - 1, which is reserved")
        ),
        Bad("numpy float", np.array([1.5]), Raises(TypeError, f"{name} must hold integer keys, not float64")),
        Bad("numpy negative", np.array([-1]), Raises(ValueError, f"{name} holds the negative key -1")),
        Bad(
            "numpy uint64 2**64 - 1",
            np.array([2**64 - 1], dtype=np.uint64),
            Raises(ValueError, f"{name} holds the key 2\\*\\*64 - 1, which is reserved"),
        ),
    )


def path_values(output: bool) -> Tuple[Bad, ...]:
    where = "/nonexistent/dir/x.ann"
    return (
        Bad("int", 3, Raises(TypeError, PATH_TYPE)),
        Bad("bytes with a NUL", b"x\0y", Raises(ValueError, "contains a NUL byte")),
        Bad("str with a NUL", "x\0y", Raises(ValueError, "contains a NUL byte")),
        Bad("empty", "", Raises(OSError, "empty path, which names no file")),
        Bad("in a missing directory", where, Raises(OSError, "/nonexistent/dir/.*No such file or directory")),
        Bad(
            "a directory" if output else "a directory that holds no index",
            Lazy(lambda env: env.directory()),
            Raises(OSError, "dir-" + (r"\d+.*(Is a directory|directory)" if output else r"\d+")),
        ),
    )


KINDS: Dict[str, Kind] = {
    "f": Kind(
        TYPE_NONE,
        (
            *NOT_INT,
            Bad(
                "0",
                0,
                Raises(ValueError, "dimension must be between 1 and 16777216, got 0|at least 1, got 0"),
            ),
            Bad("-1", -1, Raises(ValueError, "f must be at least 1, got -1")),
            Bad("2**24 + 1", 2**24 + 1, Raises(ValueError, "between 1 and 16777216, got 16777217")),
            Bad("2**31", 2**31, Raises(IntegerOverflow, "greater than maximum")),
            Bad("1 works", 1, Returns(usable)),
            Bad("65536 works", 65536, Returns(usable)),
            Bad("2**24, the largest", 2**24, Returns(usable)),
        ),
    ),
    "metric": Kind(
        Raises(TypeError, "must be (a )?str, not None"),
        (
            Bad("int", 1, Raises(TypeError, "must be (a )?str, not int")),
            Bad("bytes", b"euclidean", Raises(TypeError, "must be (a )?str, not bytes")),
            Bad(
                "unknown",
                "bogus",
                Raises(ValueError, 'No such metric: .*unknown metric "bogus"; expected one of'),
            ),
            Bad("empty", "", Raises(ValueError, 'No such metric: .*unknown metric ""')),
            Bad("another case", "EUCLIDEAN", Raises(ValueError, "unknown metric")),
            Bad("with a NUL", "euclidean\0", Raises(ValueError, "embedded null character")),
            Bad("cosine is angular", "cosine", Returns(usable)),
        ),
    ),
    # An item key where items are added: any int from 0 to 2**64 - 2.
    "key": Kind(
        TYPE_NONE,
        (
            *KEY_TYPES,
            Bad("-1", -1, Raises(IndexError, "^Item index can not be negative$")),
            Bad("-2**31 - 1", -(2**31) - 1, Raises(IntegerOverflow, "less than minimum")),
            Bad("2**64", 2**64, Raises(IntegerOverflow, "too large to convert")),
            Bad("2**70", 2**70, Raises(IntegerOverflow, "too large to convert")),
            Bad("2**63 works", 2**63, OK),
        ),
    ),
    # An item key that is read: it must also have been added.
    "item": Kind(
        TYPE_NONE,
        (
            *KEY_TYPES,
            Bad("-1", -1, Raises(IndexError, "^Item index can not be negative$")),
            Bad("2**64", 2**64, Raises(IntegerOverflow, "too large to convert")),
            Bad("never added", 7, Raises(IndexError, "item 7 does not exist: that key was never added")),
            Bad(
                "past the largest", 20, Raises(IndexError, "^Item index larger than the largest item index$")
            ),
            Bad("2**40", 2**40, Raises(IndexError, "^Item index larger than the largest item index$")),
        ),
    ),
    "writer_key": Kind(
        TYPE_NONE,
        (
            *KEY_TYPES,
            Bad("-1", -1, Raises(ValueError, "key -1 is negative: keys are 0 to 2\\*\\*64 - 2")),
            Bad("2**64", 2**64, Raises(IntegerOverflow, "does not fit 64 bits")),
        ),
    ),
    "keys": Kind(Raises(TypeError, "keys must be an iterable of int keys, not NoneType"), key_lists("keys")),
    "allow": Kind(OK, key_lists("allow")),
    "deny": Kind(OK, key_lists("deny")),
    "vector": Kind(
        Raises(TypeError, "object of type 'NoneType' has no len"),
        (
            Bad("int", 5, Raises(TypeError, "object of type 'int' has no len")),
            Bad("str", "abc", Raises(TypeError, "must be real number, not str")),
            Bad("[str]", ["a", "b", "c"], Raises(TypeError, "must be real number, not str")),
            Bad("[None]", [None, 1, 2], Raises(TypeError, "must be real number, not NoneType")),
            Bad("[list]", [[1], 1, 2], Raises(TypeError, "must be real number, not list")),
            Bad("too short", [1, 2], Raises(IndexError, r"^Vector has wrong length \(expected 3, got 2\)$")),
            Bad("too long", [1, 2, 3, 4], Raises(IndexError, r"wrong length \(expected 3, got 4\)")),
            Bad("empty", [], Raises(IndexError, r"wrong length \(expected 3, got 0\)")),
            Bad("NaN", [1, NAN, 2], Raises(ValueError, "value 1 is NaN; only finite values")),
            Bad("inf", [INF, 1, 2], Raises(ValueError, "value 0 is inf; only finite values")),
            Bad("-inf", [1, 2, -INF], Raises(ValueError, "value 2 is -inf; only finite values")),
            Bad("too large for float32", [1e300, 1, 2], Raises(ValueError, "value 0 is inf")),
            Bad("numpy NaN", np.array([1, 2, NAN], dtype=np.float32), Raises(ValueError, "value 2 is NaN")),
            Bad("numpy (3, 1)", np.zeros((3, 1)), Raises(IndexError, r"expected 3, got shape \(3, 1\)")),
            Bad("numpy (4,)", np.zeros(4), Raises(IndexError, r"wrong length \(expected 3, got 4\)")),
            Bad(
                "numpy str",
                np.array(["a", "b", "c"]),
                Raises(TypeError, "must be real number, not numpy.str_"),
            ),
            Bad("numpy object", np.array([None, 1, 2], dtype=object), Raises(TypeError, "not NoneType")),
            # numpy's own cast, as Annoy reads it too: the imaginary part goes, with numpy's warning
            Bad("numpy complex", np.ones(3, dtype=complex), Returns(warns=ComplexWarning)),
        ),
    ),
    "matrix": Kind(
        Raises(TypeError, r"vectors must be a matrix \(rows of 3 numbers\), not NoneType"),
        (
            Bad("int", 5, Raises(TypeError, "vectors must be a matrix .*, not int")),
            Bad("str", "abc", Raises(TypeError, "vectors must be a matrix .*, not str")),
            Bad("a row too short", [[1, 2]], Raises(IndexError, r"wrong length \(expected 3, got 2\)")),
            Bad("numpy (1, 4)", np.zeros((1, 4)), Raises(IndexError, r"wrong length \(expected 3, got 4\)")),
            Bad(
                "one vector, not a matrix",
                [1.0, 2.0, 3.0],
                Raises(ValueError, r"2-D matrix.*got shape \(3,\)"),
            ),
            Bad("numpy (1, 1, 3)", np.zeros((1, 1, 3)), Raises(ValueError, r"2-D matrix.*\(1, 1, 3\)")),
            Bad("[[str]]", [["a", "b", "c"]], Raises(ValueError, "could not convert string to float")),
            Bad("ragged", [[1, 2, 3], [1, 2]], Raises(ValueError, "inhomogeneous")),
            Bad("NaN", [[1, 2, NAN]], Raises(ValueError, "value 2 is NaN; only finite values")),
            Bad("inf", [[INF, 1, 2]], Raises(ValueError, "value 0 is inf; only finite values")),
            Bad("numpy complex", np.ones((1, 3), dtype=complex), Returns(warns=ComplexWarning)),
        ),
    ),
    # Packed hamming words, for an index of 70 bits: two words.
    "words": Kind(
        Raises(TypeError, "object of type 'NoneType' has no len"),
        (
            Bad("int", 5, Raises(TypeError, "object of type 'int' has no len")),
            Bad(
                "too short", [1], Raises(IndexError, r"^Word vector has wrong length \(expected 2, got 1\)$")
            ),
            Bad("too long", [1, 2, 3], Raises(IndexError, r"expected 2, got 3")),
            Bad("[float]", [1.5, 0], Raises(TypeError, "'float' object " + INT)),
            Bad(
                "[-1]", [-1, 0], Raises(IntegerOverflow, "word 0 is -1: a packed word must be between 0 and")
            ),
            Bad("[2**64]", [0, 2**64], Raises(IntegerOverflow, "word 1 is 18446744073709551616")),
            Bad("a bit past f", [0, 1 << 6], Raises(ValueError, "bit")),
            Bad("numpy (2, 1)", np.zeros((2, 1), dtype=np.uint64), Raises(IndexError, r"got shape \(2, 1\)")),
            Bad("numpy float", np.zeros(2), Raises(TypeError, "'numpy.float64' object " + INT)),
        ),
    ),
    # n of Annoy's calls: a C int, at least 0.
    "n": Kind(
        TYPE_NONE,
        (
            *NOT_INT,
            *C_INT_LIMIT[:1],
            Bad("-1", -1, Raises(ValueError, "n must be between 0 and 2147483647, got -1")),
            Bad("2**64", 2**64, Raises(IntegerOverflow, "too large to convert")),
            Bad("0", 0, Returns(no_results)),
            Bad("2**31 - 1", 2**31 - 1, Returns(every_item)),
        ),
    ),
    # n of the search calls: any count.
    "count": Kind(
        TYPE_NONE,
        (
            *NOT_INT,
            Bad("-1", -1, Raises(ValueError, "n must be at least 0, got -1")),
            Bad("0", 0, Returns(no_results)),
            Bad("2**64", 2**64, Returns(every_item)),
            Bad("2**70", 2**70, Returns(every_item)),
        ),
    ),
    # search_k of Annoy's calls: a C int, -1 or more.
    "search_k": Kind(
        TYPE_NONE,
        (
            *NOT_INT,
            *C_INT_LIMIT[:1],
            Bad("-2", -2, Raises(ValueError, "search_k must be between -1 and 2147483647, got -2")),
            Bad("2**31 - 1: exhaustive", 2**31 - 1, Returns(is_exact)),
        ),
    ),
    # search_k of SearchOptions (None there is a TypeError) and of the search calls (the default).
    "options_search_k": Kind(
        TYPE_NONE,
        (
            *NOT_INT,
            Bad("-2", -2, Raises(ValueError, r"search_k must be -1 \(n \* n_trees\) or at least 0, got -2")),
            Bad("2**63", 2**63, Raises(IntegerOverflow, "search_k must be at most 2\\*\\*63 - 1")),
            Bad("2**63 - 1: exhaustive", 2**63 - 1, Returns(options_work)),
        ),
    ),
    "search_search_k": Kind(
        OK,
        (
            *NOT_INT,
            Bad("-2", -2, Raises(ValueError, r"search_k must be -1 \(n \* n_trees\) or at least 0, got -2")),
            Bad("2**63", 2**63, Raises(IntegerOverflow, "search_k must be at most 2\\*\\*63 - 1")),
            Bad("2**63 - 1: exhaustive", 2**63 - 1, Returns(is_exact)),
        ),
    ),
    "options_ef": Kind(
        TYPE_NONE,
        (
            *NOT_INT,
            Bad(
                "-1", -1, Raises(ValueError, r"ef must be 0 \(derived from search_k\) or at least 1, got -1")
            ),
            Bad("2**64", 2**64, Raises(IntegerOverflow, "ef must be at most 18446744073709551615")),
            Bad("2**64 - 1: exhaustive", 2**64 - 1, Returns(options_work)),
        ),
    ),
    "search_ef": Kind(
        OK,
        (
            *NOT_INT,
            Bad(
                "-1", -1, Raises(ValueError, r"ef must be 0 \(derived from search_k\) or at least 1, got -1")
            ),
            Bad("2**64", 2**64, Raises(IntegerOverflow, "ef must be at most 18446744073709551615")),
            Bad("2**40: exhaustive", 2**40, Returns(is_exact)),
            Bad("2**64 - 1: exhaustive", 2**64 - 1, Returns(is_exact)),
        ),
    ),
    "options": Kind(
        OK,
        (
            Bad("str", "fast", Raises(TypeError, "options must be SearchOptions or None, not str")),
            Bad(
                "dict", {"search_k": 5}, Raises(TypeError, "options must be SearchOptions or None, not dict")
            ),
            Bad(
                "closed",
                Lazy(lambda env: env.get("closed options")),
                Raises(ValueError, "SearchOptions are closed"),
            ),
        ),
    ),
    "filter": Kind(
        OK,
        (
            Bad("int", 3, Raises(TypeError, "filter must be a callable taking a key, not int")),
            Bad("str", "even", Raises(TypeError, "filter must be a callable taking a key, not str")),
        ),
    ),
    # A flag parsed as Annoy parses it: a C int.
    "flag": Kind(
        TYPE_NONE,
        (
            Bad("str", "yes", Raises(TypeError, "'str' object " + INT)),
            Bad("float", 1.0, Raises(TypeError, "'float' object " + INT)),
            Bad("2**31", 2**31, Raises(IntegerOverflow, "greater than maximum")),
        ),
    ),
    # include_distances of the search calls: a bool, an int or a numpy bool.
    "switch": Kind(
        Raises(TypeError, "include_distances must be a bool, not NoneType"),
        (
            Bad("str", "no", Raises(TypeError, "include_distances must be a bool, not str")),
            Bad("float", 1.0, Raises(TypeError, "include_distances must be a bool, not float")),
            Bad("numpy bool", np.True_, Returns(lambda result, args, env: isinstance(result, tuple))),
        ),
    ),
    "prefault": Kind(
        TYPE_NONE,
        (
            Bad("str", "yes", Raises(TypeError, "'str' object " + INT)),
            Bad("float", 1.0, Raises(TypeError, "'float' object " + INT)),
            Bad("256", 256, Raises(IntegerOverflow, "unsigned byte integer is greater than maximum")),
            Bad("-1", -1, Raises(IntegerOverflow, "unsigned byte integer is less than minimum")),
        ),
    ),
    "n_trees": Kind(
        TYPE_NONE,
        (
            *NOT_INT,
            *C_INT_LIMIT,
            Bad("0", 0, Raises(ValueError, "n_trees must be -1 .* or at least 1, got 0")),
            Bad("-2", -2, Raises(ValueError, "n_trees must be -1 .* or at least 1, got -2")),
        ),
    ),
    "n_threads": Kind(
        TYPE_NONE,
        (
            *NOT_INT,
            *C_INT_LIMIT,
            Bad("0", 0, Raises(ValueError, r"n_threads must be -1 \(all cores\) or at least 1, got 0")),
            Bad("-2", -2, Raises(ValueError, r"n_threads must be -1 \(all cores\) or at least 1, got -2")),
        ),
    ),
    "degree": Kind(
        TYPE_NONE,
        (
            *NOT_INT,
            *C_INT_LIMIT[:1],
            Bad("-1", -1, Raises(ValueError, "degree must be between 0 and 2147483647, got -1")),
            Bad("257", 257, Raises(ValueError, "degree 257 is above the largest, 256")),
        ),
    ),
    "seed": Kind(
        TYPE_NONE,
        (
            *NOT_INT,
            Bad("2**64", 2**64, Raises(IntegerOverflow, "seed must be between -2\\*\\*63 and 2\\*\\*64 - 1")),
            Bad("-2**63 - 1", -(2**63) - 1, Raises(IntegerOverflow, "seed must be between")),
            Bad("-1 wraps", -1, OK),
        ),
    ),
    "path_out": Kind(Raises(TypeError, PATH_TYPE + " NoneType"), path_values(output=True)),
    "path_in": Kind(Raises(TypeError, PATH_TYPE + " NoneType"), path_values(output=False)),
    "paths": Kind(
        Raises(TypeError, "'NoneType' object is not iterable"),
        (
            Bad(
                "one str",
                "a.ann",
                Raises(TypeError, r"paths must be a list of paths \(use load for one file\)"),
            ),
            Bad("empty", [], Raises(ValueError, "open_shards needs at least one index file")),
            Bad("[None]", [None], Raises(TypeError, PATH_TYPE + " NoneType")),
            Bad("[int]", [3], Raises(TypeError, PATH_TYPE + " int")),
            Bad("[missing]", ["/nonexistent/x.ann"], Raises(OSError, "/nonexistent/x.ann.*No such file")),
            Bad("[a file with a NUL]", ["x\0y"], Raises(ValueError, "contains a NUL byte")),
        ),
    ),
    "dir": Kind(
        Raises(TypeError, PATH_TYPE + " NoneType"),
        (
            Bad("int", 3, Raises(TypeError, PATH_TYPE + " int")),
            Bad("empty", "", Raises(OSError, "argument `dir` is an empty path, which names no file")),
            Bad("with a NUL", "x\0y", Raises(ValueError, "contains a NUL byte")),
            Bad(
                "a file",
                Lazy(lambda env: env.file("garbage")),
                Raises(OSError, "garbage.*(File exists|directory)"),
            ),
            Bad(
                "held by another writer",
                Lazy(lambda env: env.get("writer").path),
                Raises(RuntimeError, "already open for writing .*close that writer first"),
            ),
        ),
    ),
    "durability": Kind(
        Raises(TypeError, "durability must be a str, 'sync' or 'timer', not NoneType"),
        (
            Bad("int", 0, Raises(TypeError, "durability must be a str, 'sync' or 'timer', not int")),
            Bad("unknown", "fast", Raises(ValueError, "durability must be 'sync' or 'timer', got 'fast'")),
            Bad(
                "another case", "SYNC", Raises(ValueError, "durability must be 'sync' or 'timer', got 'SYNC'")
            ),
        ),
    ),
    "flush_ms": Kind(
        TYPE_NONE,
        (
            *NOT_INT,
            Bad("0", 0, Raises(ValueError, "flush_ms must be between 1 and 60000, got 0")),
            Bad("60001", 60001, Raises(ValueError, "flush_ms must be between 1 and 60000, got 60001")),
            Bad("-1", -1, Raises(ValueError, "flush_ms must be between 1 and 60000, got -1")),
            Bad("2**32", 2**32, Raises(ValueError, "flush_ms must be between 1 and 60000, got 4294967296")),
        ),
    ),
    "writer_n_trees": Kind(
        TYPE_NONE,
        (
            *NOT_INT,
            *C_INT_LIMIT[:1],
            Bad("0", 0, Raises(ValueError, "n_trees must be -1 or at least 1, got 0")),
            Bad("-2", -2, Raises(ValueError, "n_trees must be -1 or at least 1, got -2")),
        ),
    ),
    "graph": Kind(
        Raises(TypeError, "graph must be a bool or an int degree, not NoneType"),
        (
            Bad("str", "yes", Raises(TypeError, "graph must be a bool or an int degree, not str")),
            Bad("float", 1.5, Raises(TypeError, "graph must be a bool or an int degree, not float")),
            Bad("0", 0, Raises(ValueError, "graph must be True, False or a degree between 1 and 256, got 0")),
            Bad("257", 257, Raises(ValueError, "degree 257 is above the largest, 256")),
            Bad("2**32", 2**32, Raises(ValueError, "a degree between 1 and 256, got 4294967296")),
        ),
    ),
}


# -- the public API: how to call each entry point well, and the kind of each parameter -----


class Entry(NamedTuple):
    target: str  # the Env object whose method it is; a class or function for constructors
    args: Callable[["Env"], Dict[str, Any]]  # valid arguments
    kinds: Dict[str, str]  # parameter -> kind, exactly the signature's parameters
    extra: Tuple[Tuple[str, Bad], ...] = ()  # (parameter, bad value) pairs of this entry only


def search_args(query: Dict[str, Any]) -> Callable[["Env"], Dict[str, Any]]:
    keywords = dict(options=None, search_k=None, allow=None, deny=None, filter=None, ef=None)
    return lambda env: {**query, "n": 3, **keywords, "include_distances": False}


SEARCH_KINDS = {
    "n": "count",
    "options": "options",
    "search_k": "search_search_k",
    "allow": "allow",
    "deny": "deny",
    "filter": "filter",
    "ef": "search_ef",
    "include_distances": "switch",
}
BATCH_KINDS = {name: kind for name, kind in SEARCH_KINDS.items() if name != "include_distances"}
RAISING_FILTER = (
    "filter",
    Bad("raises", lambda key: 1 // 0, Raises(ZeroDivisionError, "division or modulo by zero")),
)
NNS_KINDS = {"n": "n", "search_k": "search_k", "include_distances": "flag"}
QE = Q["euclidean"]

ENTRIES: Dict[str, Entry] = {
    "AnnoyIndex": Entry("class", lambda env: dict(f=3, metric="euclidean"), {"f": "f", "metric": "metric"}),
    "AnnoyIndex.add_item": Entry(
        "unbuilt", lambda env: dict(i=30, vector=V), {"i": "key", "vector": "vector"}
    ),
    "AnnoyIndex.add_item_bits": Entry(
        "unbuilt hamming", lambda env: dict(i=30, words=WORDS), {"i": "key", "words": "words"}
    ),
    "AnnoyIndex.set_seed": Entry("unbuilt", lambda env: dict(seed=5), {"seed": "seed"}),
    "AnnoyIndex.get_seed": Entry("built", lambda env: {}, {}),
    "AnnoyIndex.verbose": Entry("built", lambda env: dict(v=True), {"v": "flag"}),
    "AnnoyIndex.build": Entry(
        "unbuilt", lambda env: dict(n_trees=2, n_jobs=-1), {"n_trees": "n_trees", "n_jobs": "n_threads"}
    ),
    "AnnoyIndex.build_graph": Entry(
        "built", lambda env: dict(degree=8, n_jobs=-1), {"degree": "degree", "n_jobs": "n_threads"}
    ),
    "AnnoyIndex.has_graph": Entry("built", lambda env: {}, {}),
    "AnnoyIndex.unbuild": Entry("built", lambda env: {}, {}),
    "AnnoyIndex.on_disk_build": Entry("unbuilt", lambda env: dict(fn=env.path()), {"fn": "path_out"}),
    "AnnoyIndex.save": Entry(
        "built", lambda env: dict(fn=env.path(), prefault=False), {"fn": "path_out", "prefault": "prefault"}
    ),
    "AnnoyIndex.save_annoy": Entry("built", lambda env: dict(fn=env.path()), {"fn": "path_out"}),
    # Loads go into a built index: a failed load must leave it answering as before.
    "AnnoyIndex.load": Entry(
        "built",
        lambda env: dict(fn=env.file("saved"), prefault=False),
        {"fn": "path_in", "prefault": "prefault"},
        extra=(
            (
                "fn",
                Bad("not an index", Lazy(lambda env: env.file("garbage")), Raises(OSError, "not an index")),
            ),
            (
                "fn",
                Bad("another dim", Lazy(lambda env: env.file("dim 4")), Raises(OSError, "of dimension 4")),
            ),
            (
                "fn",
                Bad(
                    "a truncated file", Lazy(lambda env: env.file("truncated")), Raises(OSError, "truncated")
                ),
            ),
        ),
    ),
    "AnnoyIndex.load_annoy": Entry(
        "built",
        lambda env: dict(fn=env.file("annoy"), prefault=False),
        {"fn": "path_in", "prefault": "prefault"},
        extra=(("fn", Bad("not an index", Lazy(lambda env: env.file("garbage")), Raises(OSError, "size"))),),
    ),
    "AnnoyIndex.load_shards": Entry(
        "built",
        lambda env: dict(paths=[env.file("shard 0"), env.file("shard 1")], prefault=False),
        {"paths": "paths", "prefault": "prefault"},
        extra=(
            (
                "paths",
                Bad(
                    "a file twice",
                    Lazy(lambda env: [env.file("shard 0")] * 2),
                    Raises(ValueError, "key 0 is in both .*shard-0.* keys must not repeat across shards"),
                ),
            ),
            (
                "paths",
                Bad(
                    "files of two dims",
                    Lazy(lambda env: [env.file("shard 0"), env.file("dim 4")]),
                    Raises(ValueError, "dimension|dim"),
                ),
            ),
            (
                "paths",
                Bad("another dim", Lazy(lambda env: [env.file("dim 4")]), Raises(OSError, "of dimension 4")),
            ),
        ),
    ),
    "AnnoyIndex.unload": Entry("built", lambda env: {}, {}),
    "AnnoyIndex.refresh": Entry("reader", lambda env: {}, {}),
    "AnnoyIndex.export": Entry("built", lambda env: dict(fn=env.path()), {"fn": "path_out"}),
    "AnnoyIndex.verify": Entry("built", lambda env: {}, {}),
    "AnnoyIndex.get_n_items": Entry("built", lambda env: {}, {}),
    "AnnoyIndex.get_n_stored": Entry("built", lambda env: {}, {}),
    "AnnoyIndex.get_n_trees": Entry("built", lambda env: {}, {}),
    "AnnoyIndex.get_item_vector": Entry("built", lambda env: dict(i=0), {"i": "item"}),
    "AnnoyIndex.get_item_bits": Entry("built hamming", lambda env: dict(i=0), {"i": "item"}),
    "AnnoyIndex.get_distance": Entry("built", lambda env: dict(i=0, j=1), {"i": "item", "j": "item"}),
    "AnnoyIndex.get_nns_by_item": Entry(
        "built",
        lambda env: dict(i=1, n=3, search_k=-1, include_distances=False),
        {"i": "item", **NNS_KINDS},
    ),
    "AnnoyIndex.get_nns_by_vector": Entry(
        "built",
        lambda env: dict(vector=QE, n=3, search_k=-1, include_distances=False),
        {"vector": "vector", **NNS_KINDS},
    ),
    "AnnoyIndex.get_nns_by_bits": Entry(
        "built hamming",
        lambda env: dict(words=WORDS, n=3, search_k=-1, include_distances=False),
        {"words": "words", **NNS_KINDS},
    ),
    "AnnoyIndex.get_nns_by_vectors": Entry(
        "built",
        lambda env: dict(vectors=[QE], n=3, search_k=-1, n_threads=-1, include_distances=False),
        {
            "vectors": "matrix",
            "n": "n",
            "search_k": "search_k",
            "n_threads": "n_threads",
            "include_distances": "flag",
        },
        extra=(("vectors", Bad("no rows", [], Returns(lambda result, args, env: result.shape == (0, 3)))),),
    ),
    # The search calls run on an index with a graph, so that ef matters.
    "AnnoyIndex.search": Entry(
        "graph", search_args(dict(vector=QE)), {"vector": "vector", **SEARCH_KINDS}, extra=(RAISING_FILTER,)
    ),
    "AnnoyIndex.search_by_item": Entry(
        "graph", search_args(dict(i=1)), {"i": "item", **SEARCH_KINDS}, extra=(RAISING_FILTER,)
    ),
    "AnnoyIndex.search_batch": Entry(
        "graph",
        lambda env: {**search_args(dict(vectors=[QE]))(env), "n_threads": -1},
        {"vectors": "matrix", **BATCH_KINDS, "n_threads": "n_threads", "include_distances": "switch"},
        extra=(
            RAISING_FILTER,
            ("vectors", Bad("no rows", [], Returns(lambda result, a, env: result.size == 0))),
        ),
    ),
    "AnnoyIndex.close": Entry("built", lambda env: {}, {}),
    "Writer": Entry(
        "class",
        lambda env: dict(
            path=env.path(".live"),
            f=3,
            metric="euclidean",
            durability="timer",
            flush_ms=100,
            n_trees=2,
            graph=False,
        ),
        {
            "path": "dir",
            "f": "f",
            "metric": "metric",
            "durability": "durability",
            "flush_ms": "flush_ms",
            "n_trees": "writer_n_trees",
            "graph": "graph",
        },
    ),
    "Writer.upsert": Entry(
        "writer", lambda env: dict(key=30, vector=V), {"key": "writer_key", "vector": "vector"}
    ),
    "Writer.upsert_many": Entry(
        "writer",
        lambda env: dict(keys=[30], vectors=[V]),
        {"keys": "keys", "vectors": "matrix"},
        extra=(("vectors", Bad("numpy (1, 4)", np.zeros((1, 4)), Raises(IndexError, "expected 3, got 4"))),),
    ),
    "Writer.delete": Entry(
        "writer",
        lambda env: dict(key=30),
        {"key": "writer_key"},
        extra=(("key", Bad("never added", 12345, Returns(equals(False)))),),
    ),
    "Writer.delete_many": Entry(
        "writer",
        lambda env: dict(keys=[30]),
        {"keys": "keys"},
        extra=(("keys", Bad("never added", [12345, 7], Returns(equals(0)))), ("keys", Bad("empty", [], OK))),
    ),
    "Writer.sync": Entry("writer", lambda env: {}, {}),
    "Writer.compact": Entry("writer", lambda env: dict(n_jobs=1), {"n_jobs": "n_threads"}),
    "Writer.index": Entry("writer", lambda env: {}, {}),
    "Writer.close": Entry("writer", lambda env: {}, {}),
    "SearchOptions": Entry(
        "class",
        lambda env: dict(search_k=-1, allow=None, deny=None, filter=None, ef=0),
        {
            "search_k": "options_search_k",
            "allow": "allow",
            "deny": "deny",
            "filter": "filter",
            "ef": "options_ef",
        },
    ),
    "SearchOptions.close": Entry("options", lambda env: {}, {}),
    "open": Entry(
        "function",
        lambda env: dict(path=env.file("saved"), prefault=False),
        {"path": "path_in", "prefault": "prefault"},
        extra=(
            ("path", Bad("not an index", Lazy(lambda env: env.file("garbage")), Raises(OSError, "garbage"))),
        ),
    ),
    "file_info": Entry(
        "function",
        lambda env: dict(fn=env.file("saved")),
        {"fn": "path_in"},
        extra=(
            ("fn", Bad("not an index", Lazy(lambda env: env.file("garbage")), Returns(kind_is("unknown")))),
        ),
    ),
}


# -- the states of an index ---------------------------------------------------------------

STATE_NAMES = ("empty", "unbuilt", "built", "loaded", "shards", "reader", "windex")
HAMMING_ONLY = {"AnnoyIndex.add_item_bits", "AnnoyIndex.get_item_bits", "AnnoyIndex.get_nns_by_bits"}

X = Exception  # Annoy's exception for the wrong state
NOT_BUILT = "the index is not built; call build first"
LOADED = "a read-only file mapping"
SHARDS = "loaded index"
LIVE = "read handle of a live index: upsert through its writer"
PAST = Raises(IndexError, "^Item index larger than the largest item index$")
ALL_OK = (OK,) * 7
QUERY = (Raises(X, NOT_BUILT), Raises(X, NOT_BUILT), OK, OK, OK, OK, OK)


def saves(function: str) -> Tuple[Outcome, ...]:
    unbuilt = Raises(OSError, f"^You can't save an index that hasn't been built: {function}: {NOT_BUILT}")
    return (
        unbuilt,
        unbuilt,
        OK,
        OK,
        Raises(
            OSError, f"{function}: cannot {function[4:]} a sharded index: .*export writes them as one file"
        ),
        Raises(
            OSError, f"{function}: cannot {function[4:]} a live index: .*export writes its items as one file"
        ),
        Raises(OSError, f"{function}: cannot {function[4:]} a live index"),
    )


def adds(function: str) -> Tuple[Outcome, ...]:
    loaded = "^You can't add an item to a loaded index: "
    return (
        OK,
        OK,
        Raises(X, f"^{function}: cannot add items to a built index; call unbuild first"),
        Raises(X, f"{loaded}{function}: cannot add items to a loaded index: it is {LOADED}"),
        Raises(X, f"{loaded}{function}: .*{SHARDS}"),
        Raises(X, f"{loaded}{function}: .*{LIVE}"),
        Raises(X, f"{loaded}{function}: .*{LIVE}"),
    )


READ_ONLY_BUILD = "^You can't build a loaded index: ann_build: cannot build a loaded index"
ONE_INDEX = "ann_build_graph: a graph is built over one index: build it on each shard's file, or export"
NO_UNBUILD = "^You can't unbuild a loaded index: ann_unbuild: cannot unbuild a loaded index"
SEED_KEPT = (
    "^ann_set_seed: a loaded, sharded or live index keeps the seed it was built with: set the seed before"
)
DISK_FIRST = "ann_on_disk_build: on_disk_build must be called before build, on an index that is not built"

# Each AnnoyIndex method in each of STATE_NAMES (the *_bits methods on hamming indexes).
STATES: Dict[str, Tuple[Outcome, ...]] = {
    "AnnoyIndex.add_item": adds("ann_add_item"),
    "AnnoyIndex.add_item_bits": adds("ann_add_item_packed"),
    # A loaded, sharded or live index keeps the seed it was built with.
    "AnnoyIndex.set_seed": (OK, OK, OK, *(Raises(X, SEED_KEPT),) * 4),
    "AnnoyIndex.get_seed": ALL_OK,
    "AnnoyIndex.verbose": ALL_OK,
    "AnnoyIndex.build": (
        OK,
        OK,
        Raises(
            X, "^You can't build a built index: ann_build: the index is already built; call unbuild first"
        ),
        Raises(X, READ_ONLY_BUILD),
        Raises(X, READ_ONLY_BUILD),
        Raises(X, READ_ONLY_BUILD),
        Raises(X, READ_ONLY_BUILD),
    ),
    "AnnoyIndex.build_graph": (
        Raises(X, "ann_build_graph: the index is not built: build the forest first, then the graph"),
        Raises(X, "ann_build_graph: the index is not built"),
        OK,
        OK,
        Raises(X, ONE_INDEX),
        Raises(X, ONE_INDEX),
        Raises(X, ONE_INDEX),
    ),
    "AnnoyIndex.has_graph": ALL_OK,
    "AnnoyIndex.unbuild": (OK, OK, OK, *(Raises(X, NO_UNBUILD),) * 4),
    "AnnoyIndex.on_disk_build": (OK, OK, *(Raises(X, DISK_FIRST),) * 5),
    "AnnoyIndex.save": saves("ann_save"),
    "AnnoyIndex.save_annoy": saves("ann_save_annoy"),
    "AnnoyIndex.load": ALL_OK,
    "AnnoyIndex.load_annoy": ALL_OK,
    "AnnoyIndex.load_shards": ALL_OK,
    "AnnoyIndex.unload": ALL_OK,
    "AnnoyIndex.refresh": ALL_OK,  # False but for a reader of a directory that changed
    "AnnoyIndex.export": (*(Raises(OSError, f"^ann_export: {NOT_BUILT}"),) * 2, *(OK,) * 5),
    "AnnoyIndex.verify": (*(Raises(X, f"^ann_verify: {NOT_BUILT}"),) * 2, *(OK,) * 5),
    "AnnoyIndex.get_n_items": ALL_OK,
    "AnnoyIndex.get_n_stored": ALL_OK,
    "AnnoyIndex.get_n_trees": ALL_OK,
    "AnnoyIndex.get_item_vector": (PAST, *(OK,) * 6),
    "AnnoyIndex.get_item_bits": (PAST, *(OK,) * 6),
    "AnnoyIndex.get_distance": (PAST, *(OK,) * 6),
    "AnnoyIndex.get_nns_by_item": (PAST, Raises(X, f"^ann_get_nns_by_item: {NOT_BUILT}"), *(OK,) * 5),
    "AnnoyIndex.get_nns_by_vector": QUERY,
    "AnnoyIndex.get_nns_by_bits": QUERY,
    "AnnoyIndex.get_nns_by_vectors": QUERY,
    "AnnoyIndex.search": QUERY,
    "AnnoyIndex.search_by_item": (PAST, Raises(X, f"^ann_search_by_item: {NOT_BUILT}"), *(OK,) * 5),
    "AnnoyIndex.search_batch": QUERY,
    "AnnoyIndex.close": ALL_OK,
}

# The closed object of each public class with a close(): every public method then raises
# this (close itself is a no-op); its properties and repr still work.
CLOSED = {
    "AnnoyIndex": (
        "closed index",
        Raises(ValueError, "^this AnnoyIndex is closed: create or unpickle a new one$"),
    ),
    "Writer": (
        "closed writer",
        Raises(ValueError, "^this Writer is closed: open a new ann.Writer on its directory$"),
    ),
    "SearchOptions": (
        "closed options",
        Raises(ValueError, "^these SearchOptions are closed: create new ones$"),
    ),
}

# -- bad input that is a mix of arguments, or of objects ----------------------------------


def closed_writer_dir(env: "Env") -> str:
    return env.get("closed writer").path


def index_outlives_writer(env: "Env") -> Any:
    index = env.get("windex")
    env.get("writer").close()
    return index.search(QE, 5, include_distances=True)


def filter_closing_its_options(env: "Env") -> Any:
    holder: List[SearchOptions] = []
    options = SearchOptions(filter=lambda key: holder[0].close())
    holder.append(options)
    return env.get("graph").search(QE, 3, options)


COMBINATIONS: Dict[str, Tuple[Callable[["Env"], Any], Outcome]] = {
    "search(options and keywords)": (
        lambda env: env.get("graph").search(QE, 3, env.get("options"), search_k=10),
        Raises(TypeError, "pass either options or search_k/allow/deny/filter/ef, not both"),
    ),
    "search_batch(options and keywords)": (
        lambda env: env.get("graph").search_batch([QE], 3, env.get("options"), allow=[1]),
        Raises(TypeError, "not both"),
    ),
    "Writer.upsert_many(2 keys, 1 vector)": (
        lambda env: env.get("writer").upsert_many([30, 31], [V]),
        Raises(ValueError, "^2 keys but 1 vectors: give one vector per key$"),
    ),
    "Writer.upsert_many(1 key, 2 vectors)": (
        lambda env: env.get("writer").upsert_many([30], [V, V]),
        Raises(ValueError, "^1 keys but 2 vectors"),
    ),
    "Writer(a directory of another dim)": (
        lambda env: Writer(closed_writer_dir(env), 4, "euclidean"),
        Raises(ValueError, "holds euclidean vectors of dim 3, not euclidean of dim 4"),
    ),
    "Writer(a directory of another metric)": (
        lambda env: Writer(closed_writer_dir(env), 3, "angular"),
        Raises(ValueError, "holds euclidean vectors of dim 3, not angular of dim 3"),
    ),
    "add_item_bits on a euclidean index": (
        lambda env: env.get("unbuilt").add_item_bits(30, [1]),
        Raises(ValueError, "^ann_add_item_packed: packed bits are accepted only by the hamming metric$"),
    ),
    "get_item_bits on a euclidean index": (
        lambda env: env.get("built").get_item_bits(0),
        Raises(ValueError, "^ann_get_item_packed: packed bits exist only for the hamming metric$"),
    ),
    "get_nns_by_bits on a euclidean index": (
        lambda env: env.get("built").get_nns_by_bits([1], 3),
        Raises(ValueError, "^ann_get_nns_packed: packed bits are accepted only by the hamming metric$"),
    ),
    "verify a damaged file": (
        lambda env: env.get("damaged").verify(),
        Raises(OSError, "checksum"),
    ),
    "a filter that closes its own options": (
        filter_closing_its_options,
        Raises(RuntimeError, "SearchOptions cannot be closed from inside their own filter"),
    ),
    "an index of a writer outlives the writer": (
        index_outlives_writer,
        Returns(lambda result, args, env: ids_of(result) == exact(QE, 5)),
    ),
}


# -- the objects of a case ----------------------------------------------------------------


def _add_items(index: AnnoyIndex, metric: str, keys: List[int]) -> AnnoyIndex:
    for key in keys:
        index.add_item(key, DATA[metric][key])
    return index


class Env:
    """The objects of one case, made on first use; each remembers how it answered a query
    when it was made, so that a failure can be shown to leave it as it was."""

    def __init__(self, tmp: Path) -> None:
        self.tmp = tmp
        self.objects: Dict[str, Any] = {}
        self.answers: Dict[str, Any] = {}
        self.files: Dict[str, str] = {}
        self.count = 0

    def path(self, suffix: str = ".ann") -> str:
        """A new path in the case's directory, not there yet."""
        self.count += 1
        return str(self.tmp / f"out-{self.count}{suffix}")

    def directory(self) -> str:
        self.count += 1
        path = self.tmp / f"dir-{self.count}"
        path.mkdir()
        return str(path)

    def resolve(self, value: Any) -> Any:
        return value.make(self) if isinstance(value, Lazy) else value

    def file(self, name: str, metric: str = "euclidean") -> str:
        """An index file (or another file) made once per case."""
        key = f"{name} {metric}"
        if key not in self.files:
            path = str(self.tmp / f"{name.replace(' ', '-')}-{metric}.ann")
            f = F[metric]
            if name in ("saved", "annoy", "truncated", "damaged"):
                with self.make("built", metric) as index:
                    index.save_annoy(path) if name == "annoy" else index.save(path)
                data = Path(path).read_bytes()
                if name == "truncated":
                    Path(path).write_bytes(data[: len(data) // 2])
                if name == "damaged":
                    Path(path).write_bytes(data[:-80] + bytes(b ^ 0xFF for b in data[-80:]))
            elif name.startswith("shard"):
                part = int(name[-1])
                with _add_items(AnnoyIndex(f, metric), metric, KEYS[part::2]) as index:
                    index.build(2)
                    index.save(path)
            elif name == "dim 4":
                with AnnoyIndex(4, "euclidean") as index:
                    index.add_item(0, [1, 2, 3, 4])
                    index.build(1)
                    index.save(path)
            elif name == "garbage":
                Path(path).write_bytes(b"not an index!")  # 13 bytes: no kind of index file
            else:
                raise KeyError(name)
            self.files[key] = path
        return self.files[key]

    def make(self, name: str, metric: str) -> Any:
        f = F[metric]
        suffix = "" if metric == "euclidean" else " hamming"
        if name == "empty":
            return AnnoyIndex(f, metric)
        if name == "unbuilt":
            return _add_items(AnnoyIndex(f, metric), metric, KEYS)
        if name in ("built", "bystander"):
            index = self.make("unbuilt", metric)
            index.set_seed(42)
            index.build(3)
            return index
        if name == "graph":
            index = self.make("built", metric)
            index.build_graph(8)
            return index
        if name in ("loaded", "damaged"):
            index = AnnoyIndex(f, metric)
            index.load(self.file("saved" if name == "loaded" else name, metric))
            return index
        if name == "shards":
            index = AnnoyIndex(f, metric)
            index.load_shards([self.file("shard 0", metric), self.file("shard 1", metric)])
            return index
        if name == "writer":
            writer = Writer(self.path(".live"), f, metric, durability="timer", flush_ms=1000, n_trees=2)
            writer.upsert_many(KEYS, [DATA[metric][k] for k in KEYS])
            return writer
        if name == "reader":
            return ann.open(self.get("writer" + suffix).path)
        if name == "windex":
            return self.get("writer" + suffix).index()
        if name == "options":
            return SearchOptions(search_k=200, deny=[3])
        if name.startswith("closed"):
            closed = self.make(name.split()[1].replace("index", "built"), metric)
            closed.close()
            return closed
        raise KeyError(name)

    def get(self, name: str) -> Any:
        """The object ``name`` ("built", "reader hamming", "closed writer"...) of this case."""
        if name not in self.objects:
            base, _, metric = name.partition(" hamming")
            obj = self.make(base, "hamming" if name.endswith(" hamming") else "euclidean")
            self.objects[name] = obj
            self.answers[name] = self.answer(name, obj)
        return self.objects[name]

    def answer(self, name: str, obj: Any) -> Any:
        """What the object says to a query now (None for closed objects)."""
        if name.startswith("closed"):
            return None
        q = Q["hamming" if name.endswith("hamming") else "euclidean"]
        if isinstance(obj, Writer):
            if obj.closed:
                return None
            with obj.index() as index:
                return index.search(q, 5, include_distances=True), index.get_n_stored()
        if isinstance(obj, SearchOptions):
            return self.get("graph").search(QE, 5, obj, include_distances=True)
        if name.startswith(("empty", "unbuilt")):
            stored = [obj.get_item_vector(key) for key in KEYS[:3]] if obj.get_n_stored() else []
            return obj.get_n_items(), obj.get_n_stored(), obj.get_n_trees(), stored
        nearest = obj.get_nns_by_vector(q, 5, include_distances=True)
        return nearest, obj.get_n_items(), obj.get_n_stored(), obj.get_n_trees(), obj.has_graph()

    def assert_unchanged(self) -> None:
        for name, obj in list(self.objects.items()):
            if self.answers[name] is None:
                continue
            try:
                now = self.answer(name, obj)
            except Exception as error:  # any error here is the finding
                raise AssertionError(f"{name} is unusable after the failure: {error!r}") from error
            assert now == self.answers[name], f"{name} answers differently after the failure"


@pytest.fixture
def env(tmp_path: Path) -> Env:
    return Env(tmp_path)


def invoke(func: Callable[..., Any], args: Dict[str, Any]) -> Any:
    """``func`` with ``args``: positional-only parameters by position, the others by name."""
    parameters = inspect.signature(func).parameters.values()
    positional = [args[p.name] for p in parameters if p.kind is p.POSITIONAL_ONLY]
    keywords = {
        p.name: args[p.name] for p in parameters if p.kind is not p.POSITIONAL_ONLY and p.name in args
    }
    return func(*positional, **keywords)


def run(env: Env, call: Callable[[], Any], outcome: Outcome, args: Optional[Dict[str, Any]] = None) -> None:
    """Runs ``call`` and checks its outcome; after a failure, that every object is as it was."""
    env.get("bystander")  # an index the call has nothing to do with, checked too
    if isinstance(outcome, Returns):
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            if outcome.warns is not None:
                with pytest.warns(outcome.warns):
                    result = call()
            else:
                result = call()
        if outcome.check is not None:
            assert outcome.check(result, args or {}, env), f"returned {result!r}"
        return
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        with pytest.raises(BaseException) as info:
            call()
    error = info.value
    assert (
        type(error) is outcome.error
    ), f"raised {type(error).__name__}({error}), not {outcome.error.__name__}"
    message = str(error)
    assert message.strip(), "the message is empty"
    assert re.search(outcome.match, message), f"the message {message!r} does not match {outcome.match!r}"
    env.assert_unchanged()


def bound(name: str, target: str, env: Env) -> Callable[..., Any]:
    """The callable of entry ``name``, on the object ``target`` of the case."""
    if target in ("class", "function"):
        return getattr(ann, name)
    return getattr(env.get(target), name.split(".")[1])


# -- the tests ----------------------------------------------------------------------------


def argument_cases() -> List[Any]:
    cases = []
    for name, entry in ENTRIES.items():
        for param, kind in entry.kinds.items():
            values = [Bad("None", None, KINDS[kind].none), *KINDS[kind].bad]
            values += [bad for at, bad in entry.extra if at == param]
            cases += [pytest.param(name, param, bad, id=f"{name}({param}={bad.label})") for bad in values]
    return cases


@pytest.mark.parametrize("name, param, bad", argument_cases())
def test_bad_argument(env: Env, name: str, param: str, bad: Bad) -> None:
    entry = ENTRIES[name]
    args = entry.args(env)
    args[param] = env.resolve(bad.value)
    func = bound(name, entry.target, env)
    run(env, lambda: invoke(func, args), bad.outcome, args)


def state_cases() -> List[Any]:
    cases = []
    for name, outcomes in STATES.items():
        suffix = " hamming" if name in HAMMING_ONLY else ""
        for state, outcome in zip(STATE_NAMES, outcomes):
            cases.append(pytest.param(name, state + suffix, outcome, id=f"{name} on {state + suffix}"))
    for cls, (target, refused) in CLOSED.items():
        for name in ENTRIES:
            if name.startswith(cls + "."):
                outcome = OK if name.endswith(".close") else refused
                where = target + (" hamming" if name in HAMMING_ONLY else "")
                cases.append(pytest.param(name, where, outcome, id=f"{name} on {where}"))
    return cases


@pytest.mark.parametrize("name, state, outcome", state_cases())
def test_state(env: Env, name: str, state: str, outcome: Outcome) -> None:
    args = ENTRIES[name].args(env)
    func = bound(name, state, env)
    run(env, lambda: invoke(func, args), outcome, args)


@pytest.mark.parametrize("label", list(COMBINATIONS))
def test_combination(env: Env, label: str) -> None:
    call, outcome = COMBINATIONS[label]
    run(env, lambda: call(env), outcome)


@pytest.mark.parametrize("cls", list(CLOSED))
def test_a_closed_object_keeps_its_properties_and_closes_again(env: Env, cls: str) -> None:
    closed = env.get(CLOSED[cls][0])
    for attr, member in vars(type(closed)).items():
        if isinstance(member, property):
            getattr(closed, attr)  # reads what it was made with: no handle needed
    assert "closed" in repr(closed)
    assert closed.close() is None and closed.close() is None


# -- the tables cover the public API ------------------------------------------------------

NOT_ENTRY_POINTS = {"FileInfo": "a record that file_info returns", "IntegerOverflow": "an exception class"}


def public_api() -> Dict[str, Callable[..., Any]]:
    """Every public callable of the package: its classes, their public methods, its functions."""
    api: Dict[str, Callable[..., Any]] = {}
    for name in dir(ann):
        value = getattr(ann, name)
        if name.startswith("_") or inspect.ismodule(value) or not callable(value) or name in NOT_ENTRY_POINTS:
            continue
        api[name] = value
        if inspect.isclass(value):
            for attr, member in vars(value).items():
                if not attr.startswith("_") and inspect.isfunction(member):
                    api[f"{name}.{attr}"] = member
    return api


def parameters(func: Callable[..., Any]) -> List[str]:
    names = list(inspect.signature(func).parameters)
    return names[1:] if not inspect.isclass(func) and names[:1] == ["self"] else names


def test_the_tables_cover_the_public_api() -> None:
    api = public_api()
    missing = sorted(set(api) - set(ENTRIES))
    assert (
        not missing
    ), f"public entry points without a row: add them to ENTRIES (and STATES) in {__file__}: {missing}"
    gone = sorted(set(ENTRIES) - set(api))
    assert not gone, f"rows for entry points that are not public any more: {gone}"
    for name, entry in ENTRIES.items():
        params = parameters(api[name])
        assert params == list(entry.kinds), (
            f"{name}{inspect.signature(api[name])}: give each parameter its kind in ENTRIES: "
            f"the table has {list(entry.kinds)}"
        )
        for param, kind in entry.kinds.items():
            assert kind in KINDS, f"{name}({param}): no kind {kind!r} in KINDS"
        for param, _ in entry.extra:
            assert param in entry.kinds, f"{name}: extra value for a parameter it does not have: {param}"
    methods = {name for name in api if name.startswith("AnnoyIndex.")}
    assert (
        set(STATES) == methods
    ), f"give each AnnoyIndex method its row in STATES: {sorted(methods ^ set(STATES))}"
    assert all(len(row) == len(STATE_NAMES) for row in STATES.values())
    closable = {name for name, value in api.items() if inspect.isclass(value) and hasattr(value, "close")}
    assert closable == set(CLOSED), f"give each class with close() its closed object in CLOSED: {closable}"
