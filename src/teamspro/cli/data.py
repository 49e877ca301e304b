"""`teamspro data inventory`: what TeamsPro accesses, caches, stores and backs up, per app."""

from __future__ import annotations

import json
from dataclasses import asdict

import typer

from teamspro.core import inventory

app = typer.Typer(no_args_is_help=True, help="The data TeamsPro handles.")


@app.command("inventory")
def show_inventory(
    app_key: str = typer.Option("", "--app", help="gpt or images (default: both)."),
    fmt: str = typer.Option("markdown", "--format", help="markdown or json."),
) -> None:
    """Print the data management tables, made from the code (core/inventory.py)."""
    apps = [app_key] if app_key else list(inventory.APPS)
    if any(a not in inventory.APPS for a in apps):
        raise typer.BadParameter("the app is gpt or images")
    if fmt == "json":
        places = inventory.where()
        out = {
            a: [
                {**asdict(c), "where": asdict(places[c.key])}
                for c in inventory.CATEGORIES.values()
                if a in c.apps
            ]
            for a in apps
        }
        typer.echo(json.dumps(out, indent=2, ensure_ascii=False))
        return
    if fmt != "markdown":
        raise typer.BadParameter("the format is markdown or json")
    for a in apps:
        typer.echo(f"## {inventory.APPS[a]}\n\n{inventory.markdown(a)}\n")
        scopes = " ".join(f"`{s}`" for s in inventory.GRAPH_SCOPES[a])
        typer.echo(f"Microsoft Graph scopes at sign-in: {scopes}\n")
        typer.echo(f"Every Microsoft Graph scope it uses:\n\n{inventory.scope_table(a)}\n")
    problems = inventory.drift()
    if problems:
        typer.echo("Drift between the code and this inventory:", err=True)
        for problem in problems:
            typer.echo(f"- {problem}", err=True)
        raise typer.Exit(1)
