"""``xret export --format ranx``: the TREC runs and qrels of ``xret bench --save-run`` as ranx's
JSON files (``ranx.Qrels.from_file`` / ``ranx.Run.from_file`` read them; docs/export.md).

For a record ``<dir>/<name>.json`` with runs in ``<name>.runs/``, every cell
``<setting>__<query lang>__<pool lang>`` becomes ``OUT/<dir>/<name>/<cell>.qrels.json``
(``{query: {doc: grade}}``) and ``<cell>.run.json`` (``{query: {doc: score}}``, best first).
Records saved without runs are listed, not skipped silently.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from xret.errors import DataError
from xret.io import atomic_write_text, ensure_dir
from xret.results.duplicates import distinct
from xret.results.runs import runs_dir
from xret.results.store import ResultStore


@dataclass
class RanxExport:
    folders: list[Path] = field(default_factory=list)
    cells: int = 0
    without_runs: list[Path] = field(default_factory=list)


def _lines(path: Path, columns: int) -> Iterator[list[str]]:
    with open(path, encoding="utf-8") as lines:
        for number, line in enumerate(lines, 1):
            parts = line.split()
            if len(parts) != columns:
                raise DataError(f"{path}:{number}: expected {columns} columns, found {len(parts)}")
            yield parts


def _qrels(path: Path) -> dict[str, dict[str, int]]:
    out: dict[str, dict[str, int]] = {}
    for qid, _, doc, grade in _lines(path, 4):
        out.setdefault(qid, {})[doc] = int(grade)
    return out


def _run(path: Path) -> dict[str, dict[str, float]]:
    out: dict[str, dict[str, float]] = {}
    for qid, _, doc, _, score, _ in _lines(path, 6):
        out.setdefault(qid, {})[doc] = float(score)
    return out


def export_ranx(results_dir: Path, out: Path) -> RanxExport:
    records = distinct(ResultStore(results_dir).records())
    if not records:
        raise DataError(f"no result records under {results_dir}")
    report = RanxExport()
    for path, _ in records:
        folder = runs_dir(path)
        if not folder.is_dir():
            report.without_runs.append(path)
            continue
        target = ensure_dir(out / path.relative_to(results_dir).with_suffix(""))
        for run_file in sorted(folder.glob("*.run")):
            qrels_file = run_file.with_suffix(".qrels")
            if not qrels_file.is_file():
                raise DataError(f"{run_file}: no {qrels_file.name} beside it")
            cell = run_file.stem
            atomic_write_text(target / f"{cell}.qrels.json", json.dumps(_qrels(qrels_file)))
            atomic_write_text(target / f"{cell}.run.json", json.dumps(_run(run_file)))
            report.cells += 1
        report.folders.append(target)
    return report
