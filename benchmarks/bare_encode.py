"""The reference: a bare ``SentenceTransformer.encode`` of a task's unique texts, nothing else.

    python -m benchmarks.bare_encode --model me5-small-q4 --task xquad-r [--batch-size 64]

Same model folder, same prompts, same unique texts as ``xret bench`` encodes; prints one JSON
line with the encode wall time and the real and padded token counts of sentence-transformers' own
batching (sorted by character length, fixed batch size, padded to the longest in each batch).
"""

from __future__ import annotations

import argparse
import json
import time

import numpy as np

from xret import paths
from xret.models import model_spec
from xret.models.providers import get_provider
from xret.models.providers.st import SentenceTransformerEncoder
from xret.models.spec import Role
from xret.tasks import get_task, load_task
from xret.tasks.records import candidate_text
from xret.tasks.spec import CandidateText


def unique_texts(task_name: str, languages: tuple[str, ...] | None) -> dict[Role, list[str]]:
    task = get_task(task_name)
    data = load_task(task, task.check_languages(languages), paths.data_dir(), paths.cache_dir())
    docs = [candidate_text(d, CandidateText.SENTENCE) for d in data.documents]
    return {
        Role.DOCUMENT: list(dict.fromkeys(docs)),
        Role.QUERY: list(dict.fromkeys(q.text for q in data.queries)),
    }


def padded_tokens(model, texts: list[str], prompt: str, batch_size: int) -> tuple[int, int]:
    """Real and padded tokens of sentence-transformers' batching: longest text (in characters)
    first."""
    lengths = np.array(
        [
            len(ids)
            for ids in model.tokenizer(
                [prompt + t for t in texts], truncation=True, max_length=model.max_seq_length
            )["input_ids"]
        ]
    )
    order = np.argsort([-len(t) for t in texts], kind="stable")
    padded = sum(
        int(lengths[order[i : i + batch_size]].max()) * len(order[i : i + batch_size])
        for i in range(0, len(order), batch_size)
    )
    return int(lengths.sum()), padded


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default="me5-small-q4")
    parser.add_argument("--task", default="xquad-r")
    parser.add_argument("--languages", default=None)
    parser.add_argument("--batch-size", type=int, default=64)
    args = parser.parse_args()
    languages = tuple(args.languages.split(",")) if args.languages else None

    spec = model_spec(args.model)
    provider = get_provider(spec.provider)
    spec = provider.resolve(spec, paths.cache_dir())
    start = time.perf_counter()
    from xret.runtime.device import pick_device

    encoder = provider.load(spec, pick_device("cpu"), paths.cache_dir())
    assert isinstance(encoder, SentenceTransformerEncoder), (
        "the reference needs a sentence-transformers model"
    )
    load_seconds = time.perf_counter() - start
    texts = unique_texts(args.task, languages)
    report = {
        "model": spec.name,
        "task": args.task,
        "batch_size": args.batch_size,
        "load_model": load_seconds,
    }
    total = {"texts": 0, "tokens": 0, "padded_tokens": 0, "encode": 0.0}
    for role, items in texts.items():
        prompt = spec.prompt(role)
        real, padded = padded_tokens(encoder.model, items, prompt, args.batch_size)
        start = time.perf_counter()
        encoder.model.encode(
            items, prompt=prompt, batch_size=args.batch_size, show_progress_bar=False
        )
        seconds = time.perf_counter() - start
        for key, value in (
            ("texts", len(items)),
            ("tokens", real),
            ("padded_tokens", padded),
            ("encode", seconds),
        ):
            total[key] += value
    report.update(total)
    print(json.dumps(report))


if __name__ == "__main__":
    main()
