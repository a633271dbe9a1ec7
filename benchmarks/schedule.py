"""Schedules for larger sizes: single scale against coarse-to-fine, judged, timed, and held to the 256 px look.

    .venv/bin/python benchmarks/schedule.py --work /tmp/tradeoff                      # 512 px, two pairs
    .venv/bin/python benchmarks/schedule.py --work /tmp/tradeoff --size 1024 --pairs tubingen:starry_night \\
        --variants "256,512,1024 300,100,50=--scales 256,512,1024 --iterations 300,100,50"

Each variant (``label=options`` separated by ``;``, the options added to the
default run's command) runs as a whole process from launch at --size, and its
picture is judged (benchmarks/judge.py `relative_verdict`). Beside it: the
default run's figures at 256 px (the look every size should keep: within
``judge.LOOK_TOLERANCE``), and pastiche's default picture at this size with
whether the variant dominates it and the ratio of the wall times. Runs and the
peer's picture are cached in the work folder (a run older than the package's code is run again). Reads ../shared/images.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import shlex
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "benchmarks"))
import judge  # noqa: E402
import tradeoff  # noqa: E402
from quality import Bench, cpu_flags, git_state, images_of  # noqa: E402

PAIRS = ("golden_gate:the_scream", "tubingen:starry_night")
VARIANTS = ("single size 300=--scales 1;"
            "the default (256,512 300,100)=;"
            "256,512 300,50=--scales 256,512 --iterations 300,50")
BASE_SIZE = 256


def variant_run(bench: Bench, content: Path, style: Path, size: int, label: str, options: str) -> tradeoff.Timed:
    slug = "".join(character if character.isalnum() else "-" for character in label)
    # The options in the name too: one label may carry another weight per pair, or after an edit.
    digest = f"_{hashlib.sha1(options.encode()).hexdigest()[:8]}" if options else ""
    stem = f"{content.stem}_{style.stem}_{size}_schedule_{slug}{digest}"
    note, out = bench.work / f"{stem}_judged.json", bench.work / f"{stem}.png"
    if tradeoff.made_with_this_code(note):
        return tradeoff.Timed(**json.loads(note.read_text()))
    run = tradeoff.judged(tradeoff.whole_process(
        bench, tradeoff.our_command(content, style, size, out, *shlex.split(options)), out), content, style)
    note.write_text(json.dumps(run.__dict__))
    return run


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pairs", default=",".join(PAIRS))
    parser.add_argument("--size", type=int, default=512)
    parser.add_argument("--variants", default=VARIANTS)
    parser.add_argument("--base-size", type=int, default=BASE_SIZE, help="the size whose look the others keep")
    parser.add_argument("--work", type=Path, required=True)
    arguments = parser.parse_args()
    arguments.work.mkdir(parents=True, exist_ok=True)
    bench = Bench(arguments.work, precision="", snapshot=None, extra=[])
    variants = [item.split("=", 1) for item in arguments.variants.split(";") if item.strip()]
    lines = [f"| pair | schedule at {arguments.size} px | wall s (CPU s) | style / content | change from the "
             f"{arguments.base_size} px default | within {judge.LOOK_TOLERANCE} | pastiche default: wall s, style / content | "
             "dominated? | time ratio |", "|---|---|---|---|---|---|---|---|---|"]
    for pair in arguments.pairs.split(","):
        content, style = images_of(pair)
        base = variant_run(bench, content, style, arguments.base_size, "the default", "")
        peer = tradeoff.peer_run(bench, "pastiche", content, style, arguments.size)
        for label, options in variants:
            run = variant_run(bench, content, style, arguments.size, label, options)
            change = judge.look_change(run.verdict, base.verdict)
            dominated = judge.dominates(run.verdict, peer.verdict)
            lines.append(f"| {pair} | {label} | {run.seconds:.1f} ({run.cpu_seconds:.1f}) | {tradeoff.figures(run)} | "
                         f"{change.style:+.3f} / {change.content:+.3f} | {'yes' if change.within else 'no'} | "
                         f"{peer.seconds:.1f}, {tradeoff.figures(peer)} | {'yes' if dominated else 'no'} | "
                         f"{run.seconds / peer.seconds:.2f} |")
        print(f"done {pair}", file=sys.stderr, flush=True)
    print(f"- {cpu_flags()}\n- {git_state(None)}\n")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
