"""`sohoa dossiers …`: the archive's catalogue of dossiers (mục lục hồ sơ)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from cli.common import cli_actor, ready_services
from cli.exit_codes import ExitCode

dossiers_app = typer.Typer(
    help="Dossiers (hồ sơ): load the archive's catalogue, list them.", no_args_is_help=True
)


@dossiers_app.command("load")
def dossiers_load(
    path: Annotated[Path, typer.Argument(exists=True, dir_okay=False, help="XLSX or CSV")],
    unit: Annotated[
        str | None, typer.Option(help="The unit (fonds) the dossiers belong to")
    ] = None,
) -> None:
    """Load a mục lục hồ sơ: one dossier per row, columns by their TT 05 names (fileCode,
    title, maintenance, …) or Vietnamese labels, in any order. A re-import updates.

    Exit 0 when every row was loaded, 3 when some rows were refused (each listed with its
    line and reason; the others are loaded), 2 when the file is no catalogue."""
    from store import unit_of_work
    from store.accounts.units import unit_exists
    from store.dossiers.catalog import CatalogError, read_catalog
    from store.dossiers.registry import load_catalog

    try:
        catalog = read_catalog(path)
    except CatalogError as exc:
        typer.echo(f"{path}: {exc}", err=True)
        raise typer.Exit(ExitCode.usage) from None
    svc = ready_services()
    with unit_of_work(svc.sessions) as session:
        if unit is not None and not unit_exists(session, unit):
            typer.echo(f"Đơn vị không tồn tại / unknown unit: {unit}", err=True)
            raise typer.Exit(ExitCode.usage)
        result = load_catalog(session, catalog, unit=unit, actor=cli_actor())
    for problem in result.problems:
        code = f" ({problem.file_code})" if problem.file_code else ""
        typer.echo(f"{path.name}:{problem.line}{code}: {problem.reason}", err=True)
    if catalog.ignored_columns:
        typer.echo(f"columns not read: {', '.join(catalog.ignored_columns)}", err=True)
    typer.echo(
        f"Hồ sơ: {len(result.created)} mới, {len(result.updated)} cập nhật, "
        f"{len(result.unchanged)} không đổi, {len(result.problems)} dòng lỗi / "
        f"dossiers: {len(result.created)} new, {len(result.updated)} updated, "
        f"{len(result.unchanged)} unchanged, {len(result.problems)} rows refused"
    )
    if result.problems:
        raise typer.Exit(ExitCode.some_failed)


@dossiers_app.command("list")
def dossiers_list(
    unit: Annotated[str | None, typer.Option(help="Only this unit's dossiers")] = None,
) -> None:
    """The dossiers with their documents so far: code, documents, digitized, pages, title."""
    from store import unit_of_work
    from store.dossiers.registry import list_dossiers

    svc = ready_services()
    after = None
    with unit_of_work(svc.sessions) as session:
        while page := list_dossiers(session, units=None, unit=unit, limit=500, after=after):
            for d in page:
                typer.echo(f"{d.file_code}\t{d.documents}\t{d.digitized}\t{d.pages}\t{d.title}")
            after = page[-1].file_code


@dossiers_app.command("export")
def dossiers_export(
    file_code: Annotated[str, typer.Argument(help="The dossier's code (mã hồ sơ)")],
    out: Annotated[Path, typer.Option("--out", "-o", help="The zip to write")],
    kind: Annotated[str, typer.Option(help="sip (to hand over), aip (to keep), dip")] = "sip",
) -> None:
    """Write the dossier's TT 05/2025 package: its documents' PDF/A files, named
    `<mã hồ sơ>.<n>.pdf`, with METS, EAD (and PREMIS for an AIP) metadata.

    Exit 2 when there is no such dossier, 3 when it cannot be packaged yet (a document not
    digitized or still in review, a file that is not PDF/A), saying which."""
    from schemas.deliverable_errors import deliverable_message
    from schemas.dossier import PackageKind
    from store import unit_of_work
    from store.dossiers import PackageError, check_documents, write_package
    from store.dossiers.export import NoSuchDossier, digitizing_body, package_input, pdf_opener

    if kind not in {k.value for k in PackageKind}:
        raise typer.BadParameter("sip, aip or dip", param_hint="--kind")
    svc = ready_services()
    try:
        with unit_of_work(svc.sessions) as session:
            body = digitizing_body(session, file_code, svc.settings.sign_name)
            package, ids = package_input(session, file_code, units=None, archive=body)
        opener = pdf_opener(svc.objects.open, ids)
        check_documents(package, opener)
        size = write_package(out, package, PackageKind(kind), opener)
    except NoSuchDossier:
        typer.echo(f"Không có hồ sơ / no such dossier: {file_code}", err=True)
        raise typer.Exit(ExitCode.usage) from None
    except PackageError as exc:
        typer.echo(f"{deliverable_message(exc.code)} — {exc}", err=True)
        raise typer.Exit(ExitCode.some_failed) from None
    typer.echo(f"{out}: {len(package.documents)} văn bản / documents, {size} bytes")
