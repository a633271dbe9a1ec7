"""The documentation: README.md is a short user's page, every relative link in
the README, the docs site and the benchmarks' pages points at a file, and the
mkdocs site (mkdocs.yml, docs/) builds with --strict. Needs no TensorFlow."""

from __future__ import annotations

import importlib.util
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
README = ROOT / "README.md"
MAX_README_BYTES = 10_000
# The README opens with exactly these two commands, in one bash block.
THE_TWO_COMMANDS = [
    "bash examples/demo.sh    # a real style transfer + its progress GIF → out/demo.png, out/demo.gif",
    "bash tests/run.sh        # the test suite",
]

FENCE = re.compile(r"^(`{3,}|~{3,}).*?^\1[ \t]*$", re.MULTILINE | re.DOTALL)
INLINE_CODE = re.compile(r"(`+)(?:(?!\1).)+?\1", re.DOTALL)
# [text](target "title") and ![alt](target); the text may hold one level of brackets (a picture in a link).
LINK = re.compile(r"!?\[(?:[^\[\]]|\[[^\]]*\])*\]\(\s*<?([^)\s>]+)>?(?:\s+[\"'][^\"']*[\"'])?\s*\)")
HTML_LINK = re.compile(r"""<(?:a|img)\b[^>]*?\b(?:href|src)\s*=\s*["']([^"']+)["']""", re.IGNORECASE)
SCHEME = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*:")
COMMIT_HASH = re.compile(r"(?<![0-9A-Fa-f])[0-9a-f]{40}(?![0-9A-Fa-f])")


def documents() -> list[Path]:
    """The Markdown pages a reader follows links in: the README, the docs site's
    pages and the benchmarks' README and dated results."""
    return [README, *sorted((ROOT / "docs").glob("*.md")), *sorted((ROOT / "benchmarks").glob("README.md")),
            *sorted((ROOT / "benchmarks" / "results").glob("*.md"))]


def relative_links(text: str) -> list[str]:
    """The link and picture targets of a Markdown text that point at files here
    (not web addresses, not anchors of the same page), outside code."""
    prose = INLINE_CODE.sub("", FENCE.sub("", text))
    targets = LINK.findall(prose) + HTML_LINK.findall(prose)
    return [target for target in targets if not SCHEME.match(target) and not target.startswith("#")]


def test_the_readme_is_a_users_page_of_at_most_10000_bytes():
    data = README.read_bytes()
    assert len(data) <= MAX_README_BYTES, (
        f"README.md is {len(data)} bytes; a user's page is at most {MAX_README_BYTES}: "
        f"move reference prose to docs/ and measurements to benchmarks/")
    text = data.decode("utf-8")
    lines = text.splitlines()
    assert lines[0].startswith("# "), "README.md starts with its title"
    first_block = next(index for index, line in enumerate(lines) if line.startswith("```"))
    assert all(not line.strip() for line in lines[1:first_block]), "nothing comes between the title and the commands"
    assert lines[first_block] == "```bash", "the two commands are a bash block"
    block_end = lines.index("```", first_block + 1)
    assert lines[first_block + 1:block_end] == THE_TWO_COMMANDS, "the README opens with exactly the two commands"
    hashes = COMMIT_HASH.findall(text)
    assert not hashes, f"README.md names commits {hashes}: measurements and their commits go to benchmarks/"


def test_every_relative_link_in_the_readme_and_docs_points_at_a_file():
    broken = []
    for document in documents():
        for target in relative_links(document.read_text(encoding="utf-8")):
            path = target.split("#", 1)[0].split("?", 1)[0]
            resolved = (document.parent / path).resolve()
            if not resolved.exists() or not resolved.is_relative_to(ROOT):
                broken.append(f"{document.relative_to(ROOT)}: {target}")
    assert not broken, "links to files that are not in the repository:\n" + "\n".join(broken)


def test_the_relative_links_are_found_outside_code_only():
    text = "[a](one.md) ![b](two.png) `[c](three.md)` [d](https://example.org) [e](#here)\n```\n[f](four.md)\n```\n"
    assert relative_links(text) == ["one.md", "two.png"]


def test_the_docs_site_builds_strictly(tmp_path):
    if importlib.util.find_spec("mkdocs") is None:
        pytest.skip("mkdocs is not installed: pip install -e '.[test]' (it lists mkdocs-material)")
    site = tmp_path / "site"
    built = subprocess.run(
        [sys.executable, "-m", "mkdocs", "build", "--strict", "--site-dir", str(site)],
        cwd=ROOT, capture_output=True, text=True, timeout=600,
        env={**os.environ, "NO_MKDOCS_2_WARNING": "1"})
    output = built.stdout + built.stderr
    assert built.returncode == 0, f"mkdocs build --strict failed:\n{output}"
    warnings = [line for line in output.splitlines() if line.startswith("WARNING")]
    assert not warnings, "mkdocs warned:\n" + "\n".join(warnings)
    for page in (ROOT / "docs").glob("*.md"):
        built_page = site / ("index.html" if page.stem == "index" else f"{page.stem}/index.html")
        assert built_page.is_file(), f"docs/{page.name} was not built"


def test_the_docs_name_every_command_option_and_public_name_the_code_has():
    """The CLI and API pages are checked against the code: a command, an option or a
    public name added without its words in the docs fails here."""
    import typer.main

    import neuralstyle
    from neuralstyle.cli.main import root

    docs = Path(__file__).resolve().parents[1] / "docs"
    cli_page = (docs / "cli.md").read_text()
    every_page = "".join(page.read_text() for page in docs.glob("*.md"))
    missing = []

    def walk(command, prefix=""):
        if hasattr(command, "commands"):
            for name, sub in command.commands.items():
                walk(sub, f"{prefix}{name} ")
            return
        if f"neuralstyle {prefix.strip()}" not in cli_page and f"### {prefix.split()[0]}" not in cli_page:
            missing.append(f"command {prefix.strip()} (docs/cli.md)")
        for parameter in command.params:
            if getattr(parameter, "param_type_name", "") == "option":
                name = max(parameter.opts, key=len)
                if name not in every_page and name not in ("--help", "--version"):
                    missing.append(f"{prefix.strip()} {name}")

    walk(typer.main.get_command(root))
    api_page = (docs / "api.md").read_text()
    missing += [f"neuralstyle.{name} (docs/api.md)" for name in neuralstyle.__all__
                if name != "__version__" and name not in api_page]
    assert not missing, missing
