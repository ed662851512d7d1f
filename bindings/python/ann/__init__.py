"""ann: Annoy's Python API over libann, the Rust approximate-nearest-neighbour library.

``from ann import AnnoyIndex`` is a drop-in replacement for ``from annoy import AnnoyIndex``:
the same methods, results, exceptions and file body, plus self-describing files, clear
errors, batch queries, packed hamming bits, pickling and ``close()``. The package is pure
Python (ctypes); it loads the one ``libann`` shared library, found as ``_loader.py`` says.
"""

from ._args import IntegerOverflow
from ._fileinfo import FileInfo, file_info
from ._native import EXPECTED_ABI as ABI_VERSION
from ._native import abi_version, library_path, library_version
from .index import AnnoyIndex

__version__ = "0.1.0"

__all__ = [
    "ABI_VERSION",
    "AnnoyIndex",
    "FileInfo",
    "IntegerOverflow",
    "__version__",
    "abi_version",
    "file_info",
    "library_path",
    "library_version",
]
