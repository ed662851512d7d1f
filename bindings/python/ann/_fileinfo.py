"""``file_info``: what an index file is, read from its first bytes without loading it."""

from __future__ import annotations

from ctypes import byref
from typing import NamedTuple, Optional

from . import _args, _native

_KIND_NAMES = {_native.FILE_UNKNOWN: "unknown", _native.FILE_NATIVE: "native", _native.FILE_ANNOY: "annoy"}


class FileInfo(NamedTuple):
    """What :func:`file_info` reads from a file's first bytes, without loading it."""

    kind: str  # "native" (ann header), "annoy" (header-less Annoy body) or "unknown"
    format_version: int
    metric: Optional[str]
    dim: int
    node_size: int
    n_trees: int
    n_items: int  # the header's item slots: largest key + 1, or the item count for sparse keys
    n_nodes: int
    seed: int
    file_size: int


def file_info(fn: _args.PathLike) -> FileInfo:
    """Describes an index file: its kind and, for native files, metric, dim and counts.

    Only native files describe themselves. A header-less Annoy file is recognised by size
    alone, so its metric and dim are unknown (None, 0) and must come from the caller.
    A path that cannot be read is an ``OSError``, as in ``load``.
    """
    summary = _native.FileSummary()
    _native.call(_native.lib.ann_file_info, _args.path(fn), byref(summary), errors=_native.PATH_ERRORS)
    native = summary.kind == _native.FILE_NATIVE
    return FileInfo(
        kind=_KIND_NAMES.get(summary.kind, "unknown"),
        format_version=summary.format_version,
        metric=_native.metric_name(summary.metric) if native else None,
        dim=summary.dim,
        node_size=summary.node_size,
        n_trees=summary.n_trees,
        n_items=summary.n_items,
        n_nodes=summary.n_nodes,
        seed=summary.seed,
        file_size=summary.file_size,
    )
