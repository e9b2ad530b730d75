"""`sohoa plan …` and `sohoa report`: the plan in force, inventories, and the progress table."""

from __future__ import annotations

from datetime import date, datetime
from pathlib import Path
from typing import Annotated

import typer

from cli.common import cli_actor, ready_services
from cli.exit_codes import ExitCode

plan_app = typer.Typer(
    help="The digitization plan and the units' inventories.", no_args_is_help=True
)


@plan_app.command("load")
def plan_load(path: Annotated[Path, typer.Argument(exists=True, dir_okay=False)]) -> None:
    """Validate a plan file (YAML) and put it in force, with the inventory it carries."""
    from store import unit_of_work
    from store.planning.plans import PlanError, load_plan, read_plan_file

    try:
        plan = read_plan_file(path)
        svc = ready_services()
        with unit_of_work(svc.sessions) as session:
            load_plan(session, plan, actor=cli_actor())
    except (PlanError, UnicodeDecodeError) as exc:
        typer.echo(f"{path}: {exc}", err=True)
        raise typer.Exit(ExitCode.usage) from None
    typer.echo(
        f"plan {plan.number}: {len(plan.indicators)} indicators, "
        f"inventory of {len(plan.inventory)} units"
    )


@plan_app.command("inventory")
def plan_inventory(
    unit: str,
    documents: Annotated[int | None, typer.Option(min=0)] = None,
    pages: Annotated[int | None, typer.Option(min=0)] = None,
    dossiers: Annotated[int | None, typer.Option(min=0)] = None,
    note: Annotated[str | None, typer.Option()] = None,
) -> None:
    """Set what a unit still holds on paper (the denominators of its progress)."""
    from schemas.plan import Inventory
    from store import unit_of_work
    from store.planning.plans import PlanError, set_inventory

    svc = ready_services()
    entry = Inventory(unit=unit, documents=documents, pages=pages, dossiers=dossiers, note=note)
    try:
        with unit_of_work(svc.sessions) as session:
            set_inventory(session, entry, actor=cli_actor())
    except PlanError as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(ExitCode.usage) from None
    typer.echo(f"inventory of {unit} set")


def report(
    as_of: Annotated[
        str | None, typer.Option(help="Day of the figures, dd/mm/yyyy or yyyy-mm-dd")
    ] = None,
    window: Annotated[
        int, typer.Option(min=7, max=366, help="Days the pace is measured over")
    ] = 28,
    xlsx: Annotated[Path | None, typer.Option(help="Also write the workbook here")] = None,
    csv: Annotated[Path | None, typer.Option(help="Also write the CSV here")] = None,
    lang: Annotated[str, typer.Option(help="Language of the report: vi or en")] = "vi",
) -> None:
    """Print progress per unit against the plan (the table of the steering committee's report)."""
    from rich.console import Console
    from rich.table import Table

    from schemas.i18n import LANGS
    from schemas.plan import PACE_LABELS
    from store import unit_of_work
    from store.planning.progress import compute_progress
    from store.planning.report import (
        LEVELS,
        REPORT,
        columns,
        level_label,
        level_units,
        report_csv,
        report_xlsx,
        total_label,
        total_row,
    )
    from store.planning.report import unit_row as row_of

    if lang not in LANGS:
        typer.echo(f"error: --lang must be one of {', '.join(LANGS)}", err=True)
        raise typer.Exit(ExitCode.usage)

    day = _parse_day(as_of) if as_of else None
    svc = ready_services()
    with unit_of_work(svc.sessions) as session:
        progress = compute_progress(session, as_of=day, window_days=window)
    console = Console()
    if progress.plan:
        plan = progress.plan
        console.print(f"[bold]{plan.number}[/] — {plan.task_group}")
    console.print(REPORT.text("report.as_of", lang, date=f"{progress.as_of:%d/%m/%Y}"))
    deadline_word = REPORT.text("report.deadline_short", lang)
    for i in progress.indicators:
        share = f"{i.share * 100:.1f}%" if i.share is not None else "—"
        console.print(
            f"  {i.code}: {share} / {i.target * 100:.0f}% {deadline_word} "
            f"{i.deadline:%d/%m/%Y} — {PACE_LABELS[i.status][LANGS.index(lang)]}"
        )
    shown = [0, 1, 4, 5, 6, 7, 8, 12, 13, 14]
    names = columns(lang)
    for level, kinds in LEVELS:
        units = level_units(progress, kinds)
        if not units:
            continue
        table = Table(title=level_label(level, lang), show_lines=False)
        for index in shown:
            table.add_column(names[index], overflow="fold")
        for u in units:
            values = row_of(u, lang)
            table.add_row(*("" if values[i] is None else str(values[i]) for i in shown))
        total = total_row(total_label(level, lang), units)
        table.add_row(*("" if total[i] is None else str(total[i]) for i in shown), style="bold")
        console.print(table)
    if xlsx:
        xlsx.write_bytes(report_xlsx(progress, lang))
        typer.echo(f"written {xlsx}", err=True)
    if csv:
        csv.write_text(report_csv(progress, lang), encoding="utf-8")
        typer.echo(f"written {csv}", err=True)


def _parse_day(value: str) -> date:
    for fmt in ("%d/%m/%Y", "%Y-%m-%d"):
        try:
            return datetime.strptime(value, fmt).date()
        except ValueError:
            continue
    raise typer.BadParameter(f"{value!r}: use dd/mm/yyyy")
