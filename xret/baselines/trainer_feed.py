"""Hand sampled batches to a sentence-transformers (v6) trainer unchanged.

The trainer builds its batches itself: its default batch sampler shuffles, and ``NO_DUPLICATES``
reorders. To keep our batches (one language per mono batch, no duplicate texts), give it the pairs
as columns in batch order and, as ``batch_sampler``, ``FixedBatches(batch_size)``, which cuts them
back into the same consecutive batches::

    columns = trainer_columns(sampler.batches(max_steps))
    args = SentenceTransformerTrainingArguments(
        per_device_train_batch_size=batch_size, batch_sampler=FixedBatches(batch_size),
        num_train_epochs=1, prompts={"query": "query: ", "passage": "passage: "}, ...)
    SentenceTransformerTrainer(model, args, train_dataset=datasets.Dataset.from_dict(columns), ...)

torch is imported only when the trainer asks for the batch sampler. A plain torch ``BatchSampler``
suffices: the trainer calls ``set_epoch`` only where a sampler has one, and a replay needs no seed.
"""

from __future__ import annotations

from collections.abc import Iterable, Sized
from dataclasses import dataclass

from xret.baselines.samplers import Batch
from xret.errors import SamplingError


def trainer_columns(batches: Iterable[Batch]) -> dict[str, list[str]]:
    """The pairs of ``batches`` as ``query`` and ``passage`` text columns, in batch order.

    The column order matters to the trainer: the first is the anchor, the second its positive.
    """
    queries: list[str] = []
    passages: list[str] = []
    for batch in batches:
        for pair in batch.pairs:
            queries.append(pair.query_text)
            passages.append(pair.passage_text)
    return {"query": queries, "passage": passages}


@dataclass(frozen=True)
class FixedBatches:
    """A ``batch_sampler`` for ``SentenceTransformerTrainingArguments`` that takes rows in order,
    ``batch_size`` at a time; it refuses a trainer batch size or dataset length that would cut
    across the sampled batches.

    A class rather than a closure: the trainer pickles its arguments into every checkpoint.
    """

    batch_size: int

    def __call__(self, dataset: Sized, batch_size: int, drop_last: bool, **_: object) -> object:
        if batch_size != self.batch_size:
            raise SamplingError(
                f"the trainer's batch size is {batch_size}, "
                f"but the batches were sampled with {self.batch_size}"
            )
        if len(dataset) % self.batch_size:
            raise SamplingError(
                f"{len(dataset)} training rows are not whole batches of {self.batch_size}"
            )
        from torch.utils.data import BatchSampler, SequentialSampler

        return BatchSampler(SequentialSampler(dataset), batch_size=batch_size, drop_last=drop_last)
