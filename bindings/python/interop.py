"""The cross-language interop program, in Python (protocol: bindings/README.md).

    interop.py build <metric> <dim> <vectors.f32> <n_trees> <seed> <out.ann> <out.annoy> <out.graph.ann>
    interop.py query <native|annoy> <index file> <metric> <dim> <queries.f32> <n> <search_k>

``tests/interop/run_interop.py`` runs this beside the C, C++ and other bindings' programs
and compares their output byte for byte, so everything printed is exact: ids in decimal,
float32 values as their IEEE-754 bit patterns in 8 lowercase hex digits.
"""

from __future__ import annotations

import array
import struct
import sys
from typing import Iterable, List, Sequence

from ann import AnnoyIndex, file_info

USAGE = (
    "usage: interop build <metric> <dim> <vectors.f32> <n_trees> <seed> <out.ann> <out.annoy>\n"
    "                    <out.graph.ann>\n"
    "       interop query <native|annoy> <index file> <metric> <dim> <queries.f32> <n> <search_k>"
)


class UsageError(Exception):
    """A command line that does not follow the protocol."""


def bits(value: float) -> str:
    """The float32 ``value``'s bit pattern (exact: the binding returns float32 values)."""
    return f"{struct.unpack('<I', struct.pack('<f', value))[0]:08x}"


def read_rows(path: str, dim: int) -> List[Sequence[float]]:
    """Raw little-endian float32 rows of ``dim`` values; the row count is size / (4 * dim)."""
    values = array.array("f")
    with open(path, "rb") as file:
        data = file.read()
    if len(data) % (4 * dim):
        raise UsageError(f"{path}: {len(data)} bytes is not a whole number of {dim}-float rows")
    values.frombytes(data)
    if sys.byteorder == "big":
        values.byteswap()
    return [values[r * dim : (r + 1) * dim] for r in range(len(values) // dim)]


def integer(text: str, name: str) -> int:
    try:
        return int(text)
    except ValueError:
        raise UsageError(f"{name} must be an integer, got {text!r}") from None


def build(
    metric: str, dim: str, vectors: str, n_trees: str, seed: str, out_ann: str, out_annoy: str, out_graph: str
) -> None:
    """The forest, saved as ann's file and Annoy's; then a graph of degree 16, saved as ann's file."""
    f = integer(dim, "dim")
    index = AnnoyIndex(f, metric)
    for i, row in enumerate(read_rows(vectors, f)):
        index.add_item(i, row)
    index.set_seed(integer(seed, "seed"))
    index.build(integer(n_trees, "n_trees"))
    index.save(out_ann)  # as in Annoy, the index then maps out_ann: the same trees
    index.save_annoy(out_annoy)
    index.build_graph(degree=16)
    index.save(out_graph)


def neighbours(label: str, result: tuple) -> str:
    ids, distances = result
    return label + ":" + "".join(f" {i}:{bits(d)}" for i, d in zip(ids, distances))


def query(kind: str, path: str, metric: str, dim: str, queries: str, n: str, search_k: str) -> Iterable[str]:
    f, count, k = integer(dim, "dim"), integer(n, "n"), integer(search_k, "search_k")
    index = AnnoyIndex(f, metric)
    if kind == "native":
        found = file_info(path).kind
        if found != "native":
            raise OSError(f"{path} is not a native ann file (it looks like an {found!r} file)")
        index.load(path)  # checks that the file's metric and dim are the ones given
    elif kind == "annoy":
        index.load_annoy(path)
    else:
        raise UsageError(f"the file kind must be native or annoy, got {kind!r}")
    n_items = index.get_n_items()
    yield f"n_items {n_items} n_trees {index.get_n_trees()} dim {index.f} metric {index.metric}"
    for q, row in enumerate(read_rows(queries, f)):
        yield neighbours(f"q{q}", index.get_nns_by_vector(row, count, k, include_distances=True))
    for i in range(min(5, n_items)):
        yield neighbours(f"i{i}", index.get_nns_by_item(i, count, k, include_distances=True))
    for i in range(min(5, n_items)):
        yield f"v{i}:" + "".join(f" {bits(v)}" for v in index.get_item_vector(i))


def main(argv: List[str]) -> int:
    try:
        if len(argv) == 9 and argv[0] == "build":
            build(*argv[1:])
        elif len(argv) == 8 and argv[0] == "query":
            sys.stdout.write("".join(line + "\n" for line in query(*argv[1:])))
        else:
            raise UsageError(f"expected build and 8 arguments or query and 7, got {argv!r}")
    except UsageError as e:
        print(f"interop: {e}\n{USAGE}", file=sys.stderr)
        return 2
    except Exception as e:  # the library's message, whatever the failure
        print(f"interop: {type(e).__name__}: {e}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
