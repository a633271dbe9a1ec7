"""The ``neuralstyle`` command: `main` is the console entry point; `run_command`
runs one command line and returns its exit code."""

from .main import main, run_command

__all__ = ["main", "run_command"]
