"""ann: Annoy's Python API over libann, the Rust approximate-nearest-neighbour library.

``from ann import AnnoyIndex`` is a drop-in replacement for ``from annoy import AnnoyIndex``:
the same methods, results and file body, plus self-describing files, clear errors, batch
queries, pickling and ``close()``. The package is pure Python (ctypes); it loads the one
``libann`` shared library, found as described in ``_native.py``.
"""

from ._native import library_path, library_version
from .index import AnnoyIndex, FileInfo, file_info

__version__ = "0.1.0"

__all__ = ["AnnoyIndex", "FileInfo", "file_info", "library_path", "library_version", "__version__"]
