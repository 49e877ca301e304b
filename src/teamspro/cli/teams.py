"""`teamspro teams package gpt|images`: the Teams app packages, for Teams' admin centre."""

from __future__ import annotations

from pathlib import Path

import typer

from teamspro.config import Settings
from teamspro.core.errors import TeamsProError

app = typer.Typer(no_args_is_help=True, help="Microsoft Teams apps.")


@app.command("package")
def package(
    product: str = typer.Argument(..., help="gpt or images."),
    bot: str | None = typer.Option(None, "--bot", help="GPT Pro: name the app after this bot."),
    out: Path | None = typer.Option(None, "--out", help="Where to write the zip."),
    version: str | None = typer.Option(
        None, help="The app's version, x.y.z (default: made from the time, so always higher)."
    ),
    local: bool = typer.Option(
        False, "--local", help="Allow a plain-http address (the Agents Playground, not Teams)."
    ),
) -> None:
    """Write the app package (manifest.json and icons) made from this server's settings."""
    from teamspro.core import teams

    settings = Settings()
    why = teams.publishable(settings)
    if why and not local:
        typer.echo(f"error: Teams would refuse this package: {why} (or pass --local).", err=True)
        raise typer.Exit(1)
    try:
        if product == "gpt":
            from teamspro.gpt.teams.package import package as gpt_package

            data = gpt_package(settings, version, bot)
        elif product == "images":
            from teamspro.images.tab.package import package as images_package

            if bot:
                raise typer.BadParameter("--bot is for the gpt package")
            data = images_package(settings, version)
        else:
            raise typer.BadParameter("the product is gpt or images")
    except TeamsProError as exc:
        typer.echo(f"error: {exc.message}", err=True)
        raise typer.Exit(1) from exc
    target = out or Path(f"teamspro-{product}{'-' + bot if bot else ''}.zip")
    target.write_bytes(data)
    typer.echo(f"{target} ({len(data)} bytes): upload it in Teams (Apps > Manage your apps).")
