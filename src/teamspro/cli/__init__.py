"""The ``teamspro`` command."""

from __future__ import annotations

import asyncio
import os
import sys
from typing import TYPE_CHECKING, Any

import typer

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncEngine

    from teamspro.config import Settings

from teamspro.cli import admin, data, kb, running, teams

app = typer.Typer(no_args_is_help=True, help="TeamsPro: GPT Pro and Image Pro for Microsoft Teams.")
app.add_typer(admin.app, name="admin")
app.add_typer(data.app, name="data")
app.add_typer(kb.app, name="kb")
app.add_typer(teams.app, name="teams")


def _settings():
    from pydantic import ValidationError

    from teamspro.config import Settings
    from teamspro.core.identity import passwords

    try:
        settings = Settings()
    except ValidationError as exc:
        typer.echo(f"Configuration error:\n{exc}", err=True)
        raise typer.Exit(2) from exc
    passwords.configure(settings)
    return settings


async def _database(settings: Settings) -> AsyncEngine:
    """An engine on a database at this version's schema, or a plain error saying what to run
    (a command run before the first start met missing tables with a traceback)."""
    from teamspro.core import migrate
    from teamspro.core.db import make_engine

    engine = make_engine(settings.resolved_database_url, pool=False)
    async with engine.connect() as connection:
        problem = await connection.run_sync(migrate.behind)
    if problem:
        await engine.dispose()
        typer.echo(f"error: {problem}", err=True)
        raise typer.Exit(1)
    return engine


@app.command()
def serve(
    host: str | None = typer.Option(None, help="Overrides TEAMSPRO_HOST."),
    port: int | None = typer.Option(None, help="Overrides TEAMSPRO_PORT."),
    workers: int = typer.Option(
        1, min=1, help="Web processes; with more than one, jobs run in one extra process."
    ),
) -> None:
    """Run the web server (migrates the database first unless TEAMSPRO_AUTO_MIGRATE=false)."""
    import uvicorn

    from teamspro.app import create_app
    from teamspro.core import migrate
    from teamspro.core.bootstrap import first_start
    from teamspro.core.logs import configure_logging

    settings = _settings()
    if host:
        settings.host = host
    if port:
        settings.port = port
    configure_logging(settings.log_level, settings.log_format)
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    if settings.auto_migrate:
        migrate.upgrade(settings.resolved_database_url)
    link = asyncio.run(first_start(settings))
    typer.echo(f"TeamsPro is starting on {settings.public_url}", err=True)
    if link:
        typer.echo(
            "First start: created 'Default organisation' and its admin (admin@localhost).\n"
            f"Sign in once with this link (valid {settings.login_link_ttl_minutes} min):\n{link}",
            err=True,
        )
    sys.stderr.flush()
    with running.announced(settings):
        if workers == 1:
            uvicorn.run(create_app(settings), **_uvicorn_options(settings))
            return
        _serve_processes(settings, workers)


def _uvicorn_options(settings: Settings) -> dict[str, Any]:
    """Where and how to listen: TLS when a certificate is configured, and forwarded headers
    believed only from the configured proxies."""
    options: dict[str, Any] = {
        "host": settings.host,
        "port": settings.port,
        "log_config": None,
        "access_log": False,
        "proxy_headers": True,
        "forwarded_allow_ips": settings.trusted_proxies,
    }
    if settings.tls_cert_file and settings.tls_key_file:
        options["ssl_certfile"] = str(settings.tls_cert_file)
        options["ssl_keyfile"] = str(settings.tls_key_file)
    return options


def _serve_processes(settings: Settings, workers: int) -> None:
    """Several web processes on one port (uvicorn's supervisor), and at most one job consumer.

    The processes are started afresh and read their settings from the environment, so the
    command's overrides go there. Jobs leave the web processes: N consumers would each run the
    periodic tasks, so one `teamspro worker` process runs beside them (unless Redis is set and
    workers are run separately, as for replicas).
    """
    import subprocess

    import uvicorn

    os.environ.update(
        TEAMSPRO_HOST=settings.host,
        TEAMSPRO_PORT=str(settings.port),
        TEAMSPRO_PROCESSES=str(workers),
    )
    consumer = None
    if settings.run_embedded_worker:
        os.environ["TEAMSPRO_EMBEDDED_WORKER"] = "false"
        consumer = subprocess.Popen(
            [sys.executable, "-m", "teamspro", "worker", "--threads", str(settings.worker_threads)],
            preexec_fn=_die_with_parent,
        )
    try:
        uvicorn.run(
            "teamspro.app:create_worker_app",
            factory=True,
            workers=workers,
            **_uvicorn_options(settings),
        )
    finally:
        if consumer is not None:
            consumer.terminate()
            try:
                consumer.wait(timeout=30)
            except subprocess.TimeoutExpired:
                consumer.kill()


def _die_with_parent() -> None:
    """Linux: the job consumer ends if this command is killed outright (no orphan)."""
    import contextlib
    import ctypes
    import signal

    with contextlib.suppress(OSError):
        ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG


@app.command()
def worker(threads: int = typer.Option(2, help="Jobs run in parallel.")) -> None:
    """Consume background jobs (needed with Redis; embedded mode consumes in the server)."""
    from teamspro import registry
    from teamspro.core import jobs
    from teamspro.core.logs import configure_logging

    settings = _settings()
    configure_logging(settings.log_level, settings.log_format)
    jobs.configure(settings)
    registry.load_jobs()
    jobs.run_worker(threads)


@app.command("migrate")
def migrate_cmd(
    revision: str = typer.Argument("head", help="Target revision."),
    down: bool = typer.Option(False, "--down", help="Downgrade to REVISION."),
) -> None:
    """Bring the database schema to a revision (default: the latest)."""
    from teamspro.core import migrate

    settings = _settings()
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    if down:
        migrate.downgrade(settings.resolved_database_url, revision)
    else:
        migrate.upgrade(settings.resolved_database_url, revision)
    typer.echo(f"database at {revision}")


def main() -> None:
    app()
