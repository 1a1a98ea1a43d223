"""Model specs, the model registry and the providers that build encoders."""

from __future__ import annotations

import json
from pathlib import Path

from xret.errors import ModelError, UnknownNameError
from xret.models.catalog import MODELS
from xret.models.spec import ModelSpec, Role, is_python_target, recorded_source, user_path
from xret.models.trained import trained_fields

MTEB_PREFIX = "mteb:"


def model_spec(name: str) -> ModelSpec:
    """A registered name, a local sentence-transformers folder, ``module:attr``, a hub id, or
    ``mteb:<mteb model name>[@<folder>]`` / ``mteb:<module>:<attr>`` (xret.interop.mteb.models)."""
    known = model_catalog()
    if name in known:
        return known[name]
    if name.startswith(MTEB_PREFIX):
        source = name[len(MTEB_PREFIX) :]
        shown = recorded_source(source)  # mteb:<name>@<folder>: the folder's name, not its path
        return ModelSpec(
            name=MTEB_PREFIX + shown, provider="mteb", source=source, display_name=shown
        )
    path = user_path(name)
    if path.is_dir():
        return _folder_spec(path)
    if is_python_target(name):
        return ModelSpec(name=name, provider="python", source=name, display_name=name)
    if "/" in name and not name.startswith((".", "/")):
        return ModelSpec(
            name=name, provider="sentence-transformers", source=name, display_name=name
        )
    raise UnknownNameError("model", name, known)


def model_catalog() -> dict[str, ModelSpec]:
    """The registered models and those of installed plugins (entry-point group ``xret.models``:
    a ModelSpec, or a ``module:attr`` encoder run by the python provider); a name defined twice
    fails loudly."""
    from xret.plugins import MODELS_GROUP, PluginError, plugin_objects

    found = dict(MODELS.items())
    for name, value, obj in plugin_objects(MODELS_GROUP):
        if name in found:
            raise PluginError(
                f"model {name!r} is defined twice: by {found[name].provider} "
                f"({found[name].source}) and by plugin {value!r}"
            )
        if isinstance(obj, ModelSpec):
            if obj.name != name:
                raise PluginError(
                    f"plugin model {name!r} ({value}) gives a spec named {obj.name!r}"
                )
            found[name] = obj
        else:
            found[name] = ModelSpec(name=name, provider="python", source=value, display_name=name)
    return found


def _folder_spec(path: Path) -> ModelSpec:
    """A spec for a local sentence-transformers folder, prompts taken from its own config; a
    model trained by ``xret train`` adds its base model, regime and α from its spec file."""
    config_file = path / "config_sentence_transformers.json"
    prompts = _prompts(config_file) if config_file.is_file() else {}
    fields = {"display_name": path.resolve().name, **trained_fields(path)}
    return ModelSpec(
        name=path.resolve().name,
        provider="sentence-transformers",
        source=str(path.resolve()),
        query_prompt=prompts.get("query", ""),
        document_prompt=prompts.get("document", prompts.get("passage", "")),
        **fields,
    )


def _prompts(config_file: Path) -> dict[str, str]:
    """The ``prompts`` of a sentence-transformers config: an object of strings, or a ModelError."""
    try:
        config = json.loads(config_file.read_text(encoding="utf-8"))
    except (OSError, ValueError, RecursionError) as err:
        raise ModelError(f"{config_file}: unreadable ({err})") from None
    prompts = (config.get("prompts") or {}) if isinstance(config, dict) else None
    if not isinstance(prompts, dict) or not all(isinstance(v, str) for v in prompts.values()):
        raise ModelError(f"{config_file}: expected an object whose 'prompts' maps names to strings")
    return prompts


__all__ = ["MODELS", "ModelSpec", "Role", "model_catalog", "model_spec"]
