"""The top-level command group loads each command when it is asked for; a mistyped command still
gets suggestions, and an unknown one exits 2."""

from __future__ import annotations

from typer.testing import CliRunner

from helixdesk.cli import COMMANDS, app

runner = CliRunner()


def test_a_mistyped_command_is_refused_with_the_commands_it_resembles():
    done = runner.invoke(app, ["user", "create"])
    assert done.exit_code == 2
    assert "No such command 'user'" in done.output and "'users'" in done.output


def test_an_unknown_command_is_refused_without_suggestions():
    done = runner.invoke(app, ["zzz"])
    assert (
        done.exit_code == 2 and "No such command 'zzz'" in done.output and "Did you mean" not in done.output
    )


def test_the_help_lists_every_command_and_a_group_shows_its_own():
    listed = runner.invoke(app, ["--help"])
    assert listed.exit_code == 0
    assert all(name in listed.output for name in COMMANDS)
    group = runner.invoke(app, ["db", "--help"])
    assert group.exit_code == 0 and "upgrade" in group.output
