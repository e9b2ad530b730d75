"""The `sohoa` command."""

from __future__ import annotations

import logging
import os
import signal
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

from cli.accounts import token_app, user_app
from cli.common import cli_actor, inputs_or_exit, ready_services
from cli.cpus import usable_cpus
from cli.dossiers import dossiers_app
from cli.exit_codes import ExitCode
from cli.progress import plan_app
from cli.progress import report as report_command
from cli.upload import upload

app = typer.Typer(
    name="sohoa",
    help="Số hoá tài liệu lưu trữ — digitize the paper archive of a Vietnamese local government.",
    no_args_is_help=True,
    add_completion=False,
)
db_app = typer.Typer(help="The metadata database.", no_args_is_help=True)
units_app = typer.Typer(help="Units (fonds) whose records are digitized.", no_args_is_help=True)
app.add_typer(dossiers_app, name="dossiers")
app.add_typer(db_app, name="db")
app.add_typer(units_app, name="units")
records_app = typer.Typer(help="Digitized records.", no_args_is_help=True)
app.add_typer(records_app, name="records")
app.add_typer(user_app, name="user")
app.add_typer(token_app, name="token")
app.add_typer(plan_app, name="plan")
app.command("report")(report_command)


@app.command()
def digitize(
    paths: Annotated[list[Path], typer.Argument(help="Files or folders (walked recursively)")],
    unit: Annotated[str | None, typer.Option(help="Unit code, e.g. phuong-co-nhue-1")] = None,
    dossier: Annotated[str | None, typer.Option(help="Dossier code (mã hồ sơ)")] = None,
    out: Annotated[
        Path | None, typer.Option(help="Write DIR/<input name>.json per input file")
    ] = None,
    workers: Annotated[
        int, typer.Option(min=0, help="Processes; 0: one per CPU this process may use")
    ] = 0,
    split: Annotated[
        bool,
        typer.Option(
            "--split/--no-split",
            help="A PDF holding several documents (a dossier scanned as one file) is cut "
            "where each document begins; each part its own record, in review",
        ),
    ] = False,
) -> None:
    """Digitize files and folders on this machine, with a progress bar and a summary.

    Exit status: 0 when every file was digitized, 3 when some failed, 2 for usage errors.
    """
    from cli.digitize import digitize as run
    from cli.digitize import print_summary, write_outputs
    from store import unit_of_work
    from store.accounts.units import unit_exists

    console = Console(stderr=True)
    # Failures are in the summary table; per-document log lines would only break the bar.
    logging.getLogger("worker").setLevel(logging.ERROR)
    inputs = inputs_or_exit(paths, console, "Không có tệp nào để số hoá / no files to digitize")
    svc = ready_services()
    if unit is not None:
        with unit_of_work(svc.sessions) as session:
            if not unit_exists(session, unit):
                console.print(f"[red]Đơn vị không tồn tại / unknown unit:[/red] {unit}")
                raise typer.Exit(ExitCode.usage)
    with tempfile.TemporaryDirectory(prefix="sohoa-split-") as parts:
        cut_from: dict[str, str] = {}
        if split:
            from cli.splitting import split_inputs

            inputs, cut_from = split_inputs(
                inputs, Path(parts), lang=svc.settings.ocr_lang, console=console
            )
        summary = run(
            svc,
            inputs,
            unit=unit,
            dossier=dossier,
            workers=workers or usable_cpus(),
            console=console,
            cut_from=cut_from,
        )
    print_summary(console, summary)
    if out is not None:
        write_outputs(out, summary)
        console.print(f"Bản ghi JSON: {out}")
    if summary.failed:
        raise typer.Exit(ExitCode.some_failed)


app.command()(upload)


def _celery_worker_argv(
    concurrency: int, beat: bool, loglevel: str, queues: str = "all"
) -> list[str]:
    from schemas.settings import get_settings
    from worker.app import light_queue, ocr_queue

    settings = get_settings()
    names = {
        "ocr": [ocr_queue(settings)],
        "light": [light_queue(settings)],
        "all": [ocr_queue(settings), light_queue(settings)],
    }[queues]
    argv = [
        sys.executable, "-m", "celery", "-A", "worker.app", "worker",
        f"--concurrency={concurrency}", f"--loglevel={loglevel}",
        f"--queues={','.join(names)}", "--without-gossip", "--without-mingle",
    ]  # fmt: skip
    if beat:
        argv.append("--beat")
    return argv


@app.command()
def worker(
    concurrency: Annotated[
        int, typer.Option(help="Processes; default: the CPUs this process may use")
    ] = 0,
    beat: Annotated[
        bool, typer.Option(help="Also run the periodic reconciler (exactly one per deployment)")
    ] = False,
    queues: Annotated[
        str, typer.Option(help="ocr (page extraction), light (publishing, reconciler) or all")
    ] = "all",
    loglevel: str = "info",
) -> None:
    """Start a Celery worker for the pipeline."""
    if queues not in ("ocr", "light", "all"):
        raise typer.BadParameter("ocr, light or all", param_hint="--queues")
    ready_services()  # the schema must exist before the first task
    argv = _celery_worker_argv(concurrency or usable_cpus(), beat, loglevel, queues)
    os.execv(argv[0], argv)


@app.command()
def serve(
    host: str = "127.0.0.1",
    port: int = 8000,
    concurrency: Annotated[
        int, typer.Option(help="Worker processes; default: the CPUs this process may use")
    ] = 0,
    api_processes: Annotated[
        int,
        typer.Option(
            help="API processes, uvicorn's workers on one shared socket; default: the CPUs "
            "this process may use (affinity and cgroup quota)"
        ),
    ] = 0,
    access_log: Annotated[
        bool, typer.Option("--access-log/--no-access-log", help="Log every request")
    ] = True,
    with_worker: Annotated[
        bool,
        typer.Option(
            "--worker/--no-worker",
            help="Also run a worker with the reconciler (off when workers run elsewhere)",
        ),
    ] = True,
    migrate: Annotated[
        bool,
        typer.Option(
            "--migrate/--no-migrate", help="Migrate the database first (off when a job does it)"
        ),
    ] = True,
) -> None:
    """Run the service on this machine: the API and a worker (with the reconciler)."""
    from cli.serving import serve_api

    if migrate:
        ready_services()
    worker_proc = None
    if with_worker:
        worker_proc = subprocess.Popen(
            _celery_worker_argv(concurrency or usable_cpus(), True, "info")
        )
    try:
        serve_api(host, port, api_processes or usable_cpus(), access_log=access_log)
    finally:
        if worker_proc is not None:
            worker_proc.send_signal(signal.SIGTERM)
            try:
                worker_proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                worker_proc.kill()


@app.command("watch")
def watch_folder(
    folder: Annotated[
        Path, typer.Argument(exists=True, file_okay=False, help="The station's folder")
    ],
    settle: Annotated[
        float, typer.Option(min=0, help="Seconds a file must stay unchanged to be complete")
    ] = 5.0,
    every: Annotated[float, typer.Option(min=0.1, help="Seconds between looks")] = 2.0,
    once: Annotated[bool, typer.Option(help="Take what is there, then stop (for cron)")] = False,
) -> None:
    """Digitize what a scanning station saves into FOLDER/<unit>/<dossier>/: each complete
    file is stored and queued for the workers, then moved to FOLDER/done/ or FOLDER/failed/
    with a JSON file beside it saying what became of it."""
    from cli.watch import Station, watch

    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s")
    svc = ready_services()
    station = Station(folder.resolve(), svc, settle=settle, actor=cli_actor())
    try:
        taken = watch(station, once=once, every=every)
    except KeyboardInterrupt:
        return
    typer.echo(f"{taken} tệp / files")


@db_app.command("upgrade")
def db_upgrade() -> None:
    """Create or migrate the database schema, and load the default units if none exist."""
    svc = ready_services()
    typer.echo(f"database ready: {svc.engine.url.render_as_string(hide_password=True)}")


@units_app.command("load")
def units_load(
    file: Annotated[Path, typer.Argument(help="CSV: code,name,kind,parent,valid_from,valid_to")],
) -> None:
    """Load (insert or update) units from an operator's CSV file."""
    from schemas.vocab import parse_units_csv
    from store import unit_of_work
    from store.accounts.units import load_units

    svc = ready_services()
    try:
        units = parse_units_csv(file.read_text(encoding="utf-8-sig"))
        with unit_of_work(svc.sessions) as session:
            count = load_units(session, units)
    except (OSError, ValueError, KeyError) as exc:
        typer.echo(f"cannot load units: {exc}", err=True)
        raise typer.Exit(ExitCode.usage) from None
    typer.echo(f"{count} units loaded")


@units_app.command("list")
def units_list() -> None:
    """Print the known units."""
    from store import unit_of_work
    from store.accounts.units import list_units

    svc = ready_services()
    with unit_of_work(svc.sessions) as session:
        for unit in list_units(session):
            typer.echo(f"{unit.code}\t{unit.kind.value}\t{unit.name}")


@records_app.command("show")
def records_show(record_id: str) -> None:
    """Print a record as JSON."""
    from store import unit_of_work
    from store.records.reads import load_record

    svc = ready_services()
    with unit_of_work(svc.sessions) as session:
        record = load_record(session, record_id)
    if record is None:
        typer.echo(f"no record {record_id}", err=True)
        raise typer.Exit(ExitCode.usage)
    typer.echo(record.model_dump_json(indent=2))


@records_app.command("correct")
def records_correct(
    record_id: str,
    changes: Annotated[
        list[str], typer.Argument(help="FIELD=VALUE, e.g. number=251/KH-UBND unit=phong-noi-vu")
    ],
    actor: Annotated[str, typer.Option(help="Who corrects (kept in the audit log)")] = "",
) -> None:
    """Correct document fields of a record; the machine's values are kept, and later records
    of the same kind learn from it."""
    from pydantic import ValidationError

    from store import unit_of_work
    from store.accounts.units import unit_exists
    from store.records.corrections import correct_document

    values: dict[str, str | None] = {}
    for change in changes:
        field, sep, value = change.partition("=")
        if not sep or not field:
            raise typer.BadParameter(f"{change!r}: use FIELD=VALUE")
        values[field.strip()] = value.strip() or None
    svc = ready_services()
    who = actor or f"cli:{os.environ.get('USER', 'local')}"
    try:
        with unit_of_work(svc.sessions) as session:
            if values.get("unit") and not unit_exists(session, values["unit"] or ""):
                raise typer.BadParameter(f"unknown unit {values['unit']!r}")
            doc = correct_document(session, record_id, values, actor=who)
            version = doc.version
    except KeyError:
        typer.echo(f"no record {record_id}", err=True)
        raise typer.Exit(ExitCode.usage) from None
    except ValidationError as exc:
        typer.echo(f"invalid value: {exc.errors()[0]['msg']}", err=True)
        raise typer.Exit(ExitCode.usage) from None
    from worker.pipeline import refresh_record_json

    refresh_record_json(svc, record_id)
    typer.echo(f"{record_id} corrected (version {version})")


def main() -> None:
    app()


if __name__ == "__main__":
    main()
