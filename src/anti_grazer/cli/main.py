"""The ``anti-grazer`` command."""

from __future__ import annotations

import click

from anti_grazer import __version__
from anti_grazer.cli.audit import audit
from anti_grazer.cli.clients import clients
from anti_grazer.cli.db import db
from anti_grazer.cli.keys import keys
from anti_grazer.cli.profiles import profiles
from anti_grazer.cli.serve import serve
from anti_grazer.cli.tokens import tokens
from anti_grazer.cli.trust import trust


@click.group()
@click.version_option(__version__, prog_name="anti-grazer")
def cli() -> None:
    """Anti Grazer API: OAuth 2.0 client-credentials server and reports API."""


cli.add_command(serve)
cli.add_command(db)
cli.add_command(clients)
cli.add_command(tokens)
cli.add_command(keys)
cli.add_command(audit)
cli.add_command(profiles)
cli.add_command(trust)


def main() -> None:
    """Console-script entry point."""
    cli()
