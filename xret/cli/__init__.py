"""Command line: parse, build a config value, call one function. Heavy imports stay inside
commands, so ``xret --help`` imports neither torch nor faiss.

This module holds the group, the entry point and its error handling (one line and an exit code
per failure); each family of commands lives in its own module, shared options in ``options``.
"""

from __future__ import annotations

import sys

import click

from xret import __version__
from xret.cli import catalog, evaluation, reports, training
from xret.errors import XretError


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="xret")
@click.pass_context
def cli(ctx: click.Context) -> None:
    """xret: evaluate multilingual and cross-lingual retrieval models."""
    from xret.progress import quiet_library_bars

    ctx.with_resource(quiet_library_bars())  # for the length of the command


for _command in (
    evaluation.bench,
    evaluation.score,
    catalog.list_tasks,
    catalog.list_models,
    reports.leaderboard,
    reports.heatmap,
    reports.compare,
    reports.show,
    reports.export,
    training.train,
    training.study,
):
    cli.add_command(_command)


class _Terminated(KeyboardInterrupt):
    """SIGTERM, raised where SIGINT would be, so that the same clean-up runs."""


_TERMINATED: list[bool] = []
"""Set when SIGTERM arrived: a library that catches the interrupt (Ray's ``get``) may re-raise
it as a plain KeyboardInterrupt."""


def _terminate(signum, frame) -> None:
    _TERMINATED.append(True)
    raise _Terminated


def main() -> None:
    import signal
    import threading

    from xret.io import KEPT

    KEPT.clear()  # what this command keeps, also when it is called twice in one process
    _TERMINATED.clear()
    main_thread = threading.current_thread() is threading.main_thread()  # else signals are not ours
    previous = signal.signal(signal.SIGTERM, _terminate) if main_thread else None
    try:
        cli.main(standalone_mode=False)
    except (click.exceptions.Abort, KeyboardInterrupt):
        # click turns an interrupt into Abort, Ray into a plain one: the flag says which signal
        terminated = bool(_TERMINATED)
        click.echo(_interrupted("SIGTERM" if terminated else "SIGINT"), err=True)
        _silent_ray_teardown()
        sys.exit(143 if terminated else 130)
    except click.ClickException as err:
        err.show()
        sys.exit(err.exit_code)
    except XretError as err:
        click.echo(f"xret: error: {err}", err=True)
        sys.exit(err.exit_code)
    finally:
        if main_thread:
            signal.signal(signal.SIGTERM, previous)


def _silent_ray_teardown() -> None:
    """After an interrupt, the line above is the last one: Ray's teardown at exit logs from C++
    (a killed task's error, traceback included, that the exiting driver can no longer take), so
    Ray is shut down here with the process's stderr pointed at /dev/null."""
    import os

    ray = sys.modules.get("ray")  # loaded only by --ray runs
    if ray is None or not ray.is_initialized():
        return
    sys.stderr.flush()
    os.dup2(os.open(os.devnull, os.O_WRONLY), 2)
    ray.shutdown()


def _interrupted(signal_name: str) -> str:
    from xret.io import KEPT

    kept = sorted(KEPT.items(), reverse=True)  # result records first
    written = ", ".join(f"{n} {kind}{'s' * (n != 1)}" for kind, n in kept)
    return (
        f"xret: interrupted ({signal_name}); finished results and cached embeddings are kept"
        f"{f' ({written} written by this run)' if written else ''}, rerun to resume"
    )
