"""``envoxy-cli``: project tools (``create-project`` arrives in a later release)."""

import click

__all__ = ["main"]


@click.group(
    help="Envoxy project tools. `envoxy-cli create-project` is not available yet: "
    "see docs/ENVOXYD.md to lay out a service by hand."
)
@click.version_option(package_name="envoxy-daemon", prog_name="envoxy-cli")
def main() -> None:
    """The ``envoxy-cli`` command group."""
