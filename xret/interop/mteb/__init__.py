"""mteb interoperability (optional extra ``xret[mteb]``), see docs/mteb.md.

- ``mteb_tasks(task, ...)``: xret task settings as in-memory mteb retrieval tasks, for
  ``mteb.evaluate(model, tasks)``.
- ``XretMtebEncoder(model)``: an xret model (registered name, folder, ``module:attr``) as an
  mteb encoder, backed by xret's embedding engine and cache.
- ``--model mteb:<name>``, ``mteb:<name>@<folder>``, ``mteb:<module>:<attr>``: mteb models inside
  ``xret bench`` (provider ``mteb``, xret.interop.mteb.models).
- ``export_results(results_dir, out)``: xret result records in mteb's results layout, validated by
  loading them back with mteb's own ``ResultCache``.
- ``compare(record, task_results)``: cell-by-cell agreement of an xret record and mteb's scores.

Nothing here imports mteb until it is used; without mteb installed every entry point raises a
one-line ``MissingPackageError``.
"""

from __future__ import annotations

import importlib

_EXPORTS = {
    "mteb_tasks": "xret.interop.mteb.tasks",
    "XretRetrievalTask": "xret.interop.mteb.tasks",
    "XretMtebEncoder": "xret.interop.mteb.models",
    "export_results": "xret.interop.mteb.export",
    "export_record": "xret.interop.mteb.export",
    "compare": "xret.interop.mteb.crosscheck",
}


def require_mteb(purpose: str):
    """The mteb module, or a one-line error saying how to install it."""
    from xret.errors import MissingPackageError

    try:
        return importlib.import_module("mteb")
    except ImportError:
        raise MissingPackageError("mteb", purpose, "'xret[mteb]'") from None


def __getattr__(name: str):
    if name in _EXPORTS:
        return getattr(importlib.import_module(_EXPORTS[name]), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


__all__ = [*_EXPORTS, "require_mteb"]
