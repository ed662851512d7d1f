"""ann: Annoy's Python API over libann, the Rust approximate-nearest-neighbour library.

``from ann import AnnoyIndex`` is a drop-in replacement for ``from annoy import AnnoyIndex``:
the same methods, results, exceptions and file body, plus self-describing files, clear
errors, batch queries, packed hamming bits, pickling and ``close()``; and what Annoy lacks:
any 64-bit key, filtered searches that still return n results (``SearchOptions``,
``AnnoyIndex.search``), one index over several files (``AnnoyIndex.load_shards``), and live
indexes that take upserts and deletes while other processes read them (``Writer``, ``open``).
The package is pure Python (ctypes); it loads the one ``libann`` shared library, found as
``_loader.py`` says.
"""

from ._args import IntegerOverflow
from ._fileinfo import FileInfo, file_info
from ._native import EXPECTED_ABI as ABI_VERSION
from ._native import NO_KEY, abi_version, library_path, library_version
from .index import AnnoyIndex
from .live import Writer
from .live import open as open  # re-exported, but kept out of __all__ (below)
from .options import SearchOptions

__version__ = "0.1.0"

__all__ = [
    "ABI_VERSION",
    "AnnoyIndex",
    "FileInfo",
    "IntegerOverflow",
    "NO_KEY",
    "SearchOptions",
    "Writer",
    "__version__",
    "abi_version",
    "file_info",
    "library_path",
    "library_version",
]  # not "open": `from ann import *` must not hide the built-in open; use ann.open
