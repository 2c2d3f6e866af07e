"""``python -m search`` runs the vnsearch command."""
from .cli import cli

cli(prog_name="vnsearch")
