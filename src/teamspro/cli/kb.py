"""``teamspro kb``: import files or folders into a bot's knowledge base from the shell."""

from __future__ import annotations

import asyncio
import sys
import uuid
from pathlib import Path
from typing import Any

import typer
from sqlalchemy import select

app = typer.Typer(no_args_is_help=True, help="Manage GPT Pro knowledge bases.")


def _files(paths: list[Path]) -> list[Path]:
    from teamspro.gpt.knowledge.parsing import EXTENSIONS

    found: list[Path] = []
    for path in paths:
        if path.is_dir():
            found += sorted(
                p for p in path.rglob("*") if p.is_file() and p.suffix.lower() in EXTENSIONS
            )
        elif path.is_file():
            found.append(path)
        else:
            raise typer.BadParameter(f"{path} does not exist")
    return found


@app.command("import")
def import_files(
    bot: str = typer.Argument(..., help="Bot id, or its name."),
    paths: list[Path] = typer.Argument(..., help="Files or folders (searched recursively)."),
    org: str | None = typer.Option(None, help="Organisation, when the bot name is ambiguous."),
    queue: bool = typer.Option(False, help="Queue for the workers instead of ingesting here."),
) -> None:
    """Upload files into a bot's knowledge base, with a progress bar."""
    from teamspro import registry
    from teamspro.cli import _database, _settings
    from teamspro.core import jobs
    from teamspro.core.db import make_sessionmaker, transaction
    from teamspro.core.errors import TeamsProError
    from teamspro.gpt.bot.models import Bot
    from teamspro.gpt.knowledge import service as kb_service
    from teamspro.gpt.knowledge.jobs import ingest_document
    from teamspro.gpt.knowledge.models import DocumentStatus

    settings = _settings()
    files = _files(paths)
    if not files:
        typer.echo("No supported files found.", err=True)
        raise typer.Exit(1)
    jobs.configure(settings)
    registry.load_jobs()

    async def find_bot(session: Any) -> Bot:
        try:
            stmt = select(Bot).where(Bot.id == uuid.UUID(bot))
        except ValueError:
            stmt = select(Bot).where(Bot.name == bot)
        if org:
            from teamspro.cli.admin import _org_id

            stmt = stmt.where(Bot.org_id == await _org_id(session, org))
        found = list((await session.execute(stmt)).scalars())
        if len(found) != 1:
            hint = "; pass --org" if len(found) > 1 else ""
            raise typer.BadParameter(f"{len(found)} bots match {bot!r}{hint}")
        return found[0]

    async def run() -> dict[str, int]:
        engine = await _database(settings)
        maker = make_sessionmaker(engine)
        counts: dict[str, int] = {}
        try:
            async with maker() as session:
                target = await find_bot(session)
            with typer.progressbar(
                files,
                label=f"Importing into {target.name}",
                item_show_func=lambda p: p.name if p else "",
                file=sys.stderr,  # stdout carries only the summary, for scripts
            ) as bar:
                for path in bar:
                    try:
                        async with transaction(maker) as session:
                            done = await kb_service.upload(
                                session=session,
                                settings=settings,
                                org_id=target.org_id,
                                bot_id=target.id,
                                user_id=None,
                                filename=path.name,
                                data=path.read_bytes(),
                            )
                            doc_id, status = done.document.id, done.document.status
                            duplicate = done.duplicate
                    except TeamsProError as exc:
                        typer.echo(f"\n{path}: {exc.message}", err=True)
                        counts["refused"] = counts.get("refused", 0) + 1
                        continue
                    if duplicate:
                        result = "duplicate"
                    elif status != DocumentStatus.queued:
                        result = status.value
                    elif queue:
                        ingest_document(org_id=str(target.org_id), document_id=str(doc_id))
                        result = "queued"
                    else:
                        ended = await kb_service.ingest(
                            maker=maker, settings=settings, document_id=doc_id
                        )
                        result = ended.value if ended else "taken by a worker"
                    counts[result] = counts.get(result, 0) + 1
            if counts.get("ready"):
                async with transaction(maker) as session:
                    await kb_service.refresh_statistics(session)
        finally:
            await engine.dispose()
        return counts

    counts = asyncio.run(run())
    typer.echo(", ".join(f"{n} {k}" for k, n in sorted(counts.items())))
