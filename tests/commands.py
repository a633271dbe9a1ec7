"""The command line as Typer builds it: every command's parameter names, for tests that check what each takes."""

from __future__ import annotations


def command_parameters() -> dict[str, set[str]]:
    """Each command's name ('transfer', 'figure tradeoff', …) and its parameters' names, from Typer's own tree."""
    import typer.main

    from neuralstyle.cli.main import root

    found: dict[str, set[str]] = {}

    def walk(command, prefix=""):
        if hasattr(command, "commands"):  # a group
            for name, sub in command.commands.items():
                walk(sub, f"{prefix}{name} ")
        else:
            found[prefix.strip()] = {parameter.name for parameter in command.params}

    walk(typer.main.get_command(root))
    return found
