"""`warroom diagnosis work`: analyse uploaded log bundles from cron or as a standalone worker.

Servers analyse bundles in the background already; this command is for deployments that turn
that off or want a dedicated machine for the CPU-heavy analyses.
"""

from __future__ import annotations

import time
from datetime import timedelta
from typing import Annotated

import typer

from warroom.clikit import state, stdout
from warroom.diagnosis import worker

app = typer.Typer(help="Log bundles uploaded to incidents.", no_args_is_help=True)


@app.command("work")
def work(
    ctx: typer.Context,
    once: Annotated[
        bool, typer.Option("--once", help="Analyse what is waiting, then exit (for cron).")
    ] = False,
    timeout_min: Annotated[
        int,
        typer.Option("--timeout", min=1, help="Minutes after which a running job is re-queued."),
    ] = 30,
    interval: Annotated[
        float, typer.Option(min=0.5, help="Seconds between polls when not --once.")
    ] = worker.POLL_SECONDS,
) -> None:
    """Analyse queued log bundles and add their findings to the incident timelines."""
    db = state(ctx).database()
    timeout = timedelta(minutes=timeout_min)
    while True:
        done = worker.drain(db, timeout=timeout)
        if done:
            stdout.print("processed log bundles: " + ", ".join(f"#{i}" for i in done))
        if once:
            if not done:
                stdout.print("no log bundle waiting")
            return
        time.sleep(interval)
