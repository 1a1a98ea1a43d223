"""XQuAD written as a MIRACL-format task, so a pooled corpus task runs on real multilingual text.

    python -m benchmarks.xquad_as_miracl /tmp/xquad-miracl            # ar de en zh by default
    xret bench -m MODEL -t miracl:/tmp/xquad-miracl+en -l ar,de,zh \\
        --corpus-dir /tmp/xquad-miracl/corpus --results-dir /tmp/pooled

No MIRACL corpus is on the machines xret is built on, so this is how the pooled MIRACL-format path
(docs/miracl.md, "Pooling several languages' corpora") meets real text. XQuAD is 11-way parallel:
each language's corpus is the same 240 Wikipedia paragraphs, translated. A question's relevant
passage is its own language's paragraph (judged 1); the paragraph's translations are unjudged,
as every other-language passage of a pooled MIRACL task is. Docids are MIRACL-shaped,
``<article>#<paragraph>``, and the same in every language (as MIRACL's recur across languages),
so the pool must namespace them. ``Excess@10`` then reads directly as own-language preference:
the pool holds each paragraph once per language, so a model without one would put the query's
language in the top 10 at the pool's share.
"""

from __future__ import annotations

import argparse
import gzip
import json
from pathlib import Path

from xret import paths

LANGUAGES = ("ar", "de", "en", "zh")
SPLIT = "dev"


def convert(out: Path, languages=LANGUAGES, data_dir: Path | None = None) -> None:
    source = paths.data_dir(data_dir) / "xquad"
    for sub in ("topics", "qrels", "corpus"):
        (out / sub).mkdir(parents=True, exist_ok=True)
    for language in languages:
        articles = json.loads((source / f"xquad.{language}.json").read_text("utf-8"))["data"]
        passages, topics, qrels = [], [], []
        for a, article in enumerate(articles):
            for p, paragraph in enumerate(article["paragraphs"]):
                docid = f"{a}#{p}"
                passages.append(
                    {"docid": docid, "title": article["title"], "text": paragraph["context"]}
                )
                for qa in paragraph["qas"]:
                    question = " ".join(qa["question"].split())  # one line in a TSV
                    topics.append(f"{qa['id']}\t{question}\n")
                    qrels.append(f"{qa['id']}\tQ0\t{docid}\t1\n")
        name = f"miracl-v1.0-{language}-{SPLIT}.tsv"
        (out / "topics" / f"topics.{name}").write_text("".join(topics), "utf-8")
        (out / "qrels" / f"qrels.{name}").write_text("".join(qrels), "utf-8")
        corpus = out / "corpus" / f"miracl-corpus-v1.0-{language}"
        corpus.mkdir(exist_ok=True)
        lines = "".join(json.dumps(row, ensure_ascii=False) + "\n" for row in passages)
        (corpus / "docs-0.jsonl.gz").write_bytes(gzip.compress(lines.encode("utf-8"), mtime=0))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("out", type=Path)
    parser.add_argument("-l", "--languages", default=",".join(LANGUAGES))
    parser.add_argument("--data-dir", type=Path)
    args = parser.parse_args()
    convert(args.out, tuple(args.languages.split(",")), args.data_dir)
    print(f"wrote {args.out}: topics/, qrels/, corpus/ for {args.languages}")


if __name__ == "__main__":
    main()
