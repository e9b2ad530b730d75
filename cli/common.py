"""What the commands share: the services on a migrated database, who is acting, the inputs."""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING

import typer
from rich.console import Console

from cli.exit_codes import ExitCode

if TYPE_CHECKING:
    from cli.inputs import InputFile
    from store.services import Services


def ready_services() -> Services:
    """This process's services, on a database brought to the newest schema."""
    from store.bootstrap import prepare_database
    from store.services import services

    svc = services()
    prepare_database(svc.engine)
    return svc


def cli_actor() -> str:
    """How the audit log names a person at this terminal."""
    return f"cli:{os.environ.get('USER', 'local')}"


def inputs_or_exit(paths: list[Path], console: Console, nothing: str) -> list[InputFile]:
    """The files below `paths`; exit 2 with a message when a path is missing or none is found."""
    from cli.inputs import MissingInput, collect_inputs

    try:
        inputs = collect_inputs(paths)
    except MissingInput as exc:
        console.print(f"[red]Không tìm thấy / not found:[/red] {exc}")
        raise typer.Exit(ExitCode.usage) from None
    if not inputs:
        console.print(f"[red]{nothing}[/red]")
        raise typer.Exit(ExitCode.usage)
    return inputs
