"""``xret tasks`` and ``xret models``: what is registered and whether it can run here."""

from __future__ import annotations

import click

from xret.cli.options import cache_dir_option, corpus_dir_option, data_dir_option


@click.command(name="tasks")
@data_dir_option(None)
@cache_dir_option(None)
@corpus_dir_option(None)
def list_tasks(data_dir, cache_dir, corpus_dir) -> None:
    """List the tasks by family, the forms for your own data, and which data is here."""
    from xret import paths
    from xret.tasks import FORMS
    from xret.tasks.discovery import task_catalog
    from xret.tasks.listing import Places, render

    places = Places(
        paths.data_dir(data_dir), paths.cache_dir(cache_dir), paths.corpus_dir(corpus_dir)
    )
    click.echo(render(list(task_catalog().values()), FORMS, places))


@click.command(name="models")
@cache_dir_option(None)
def list_models(cache_dir) -> None:
    """List the registered models and whether each can run here."""
    from xret import paths
    from xret.models import model_catalog
    from xret.models.listing import model_lines

    click.echo("\n".join(model_lines(model_catalog(), paths.cache_dir(cache_dir))))
