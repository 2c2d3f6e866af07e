"""Documentation stays true: every command and setting is in the README."""

from pathlib import Path

from search.cli import cli

README = (Path(__file__).resolve().parent.parent / "README.md").read_text(encoding="utf-8")


def test_readme_opens_with_the_two_commands():
    head = README[:1500]
    assert "make run" in head and "make test" in head


def test_every_command_is_in_the_readme():
    for name in cli.commands:
        assert f"vnsearch {name}" in README, f"`vnsearch {name}` is not documented in README.md"


def test_settings_are_documented():
    for setting in ("VNSEARCH_CORPUS", "VNSEARCH_INDEX", "HOST", "PORT"):
        assert setting in README
