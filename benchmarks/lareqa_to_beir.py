"""Convert a LAReQA-format task (XQuAD-R, MLQA-R, ``lareqa:DIR``) to BEIR folders, one per language.

    python -m benchmarks.lareqa_to_beir xquad-r /tmp/xquad-r-beir   # -t beir:/tmp/xquad-r-beir

The candidates, their order, the queries and every gold are those the LAReQA loader produces, so
``xret bench`` gives the same values through both paths (tests/test_beir.py checks it). Each
language's qrels hold its own gold only; the other languages' gold comes back through the shared
question id. The paragraph is not a title: titles are left empty, so ``title+text`` is the
sentence, as LAReQA's default ``--candidate-text sentence``.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from xret import paths
from xret.tasks import get_task, load_task
from xret.tasks.records import TaskData

SPLIT = "test"


def _local(internal: str) -> str:
    return internal.split("/", 1)[1]  # "<lang>/<id>" -> "<id>"


def _jsonl(path: Path, rows) -> None:
    with open(path, "w", encoding="utf-8") as out:
        out.writelines(json.dumps(row, ensure_ascii=False) + "\n" for row in rows)


def write_beir(data: TaskData, root: Path) -> None:
    for language in dict.fromkeys(d.language for d in data.documents):
        folder = root / language
        (folder / "qrels").mkdir(parents=True, exist_ok=True)
        asked = [q for q in data.queries if q.language == language]
        _jsonl(
            folder / "corpus.jsonl",
            (
                {"_id": _local(d.id), "title": "", "text": d.text}
                for d in data.documents
                if d.language == language
            ),
        )
        _jsonl(folder / "queries.jsonl", ({"_id": _local(q.id), "text": q.text} for q in asked))
        with open(folder / "qrels" / f"{SPLIT}.tsv", "w", encoding="utf-8") as out:
            out.write("query-id\tcorpus-id\tscore\n")
            for q in asked:
                for doc, grade in data.qrels[q.id].items():
                    if doc.split("/", 1)[0] == language:
                        out.write(f"{_local(q.id)}\t{_local(doc)}\t{grade}\n")


def convert(
    task: str, out: Path, data_dir: Path | None = None, cache_dir: Path | None = None
) -> None:
    spec = get_task(task)
    data = load_task(spec, spec.languages, paths.data_dir(data_dir), paths.cache_dir(cache_dir))
    write_beir(data, out)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("task", help="xquad-r, mlqa-r or lareqa:DIR")
    parser.add_argument("out", type=Path, help="output folder (one sub-folder per language)")
    parser.add_argument("--data-dir", type=Path, help="[env XRET_DATA_DIR]")
    args = parser.parse_args()
    convert(args.task, args.out, args.data_dir)
    print(args.out)


if __name__ == "__main__":
    main()
