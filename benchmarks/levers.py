"""One lever at a time against both peers' default pictures: on how many pairs each variant of the default run dominates them.

    .venv/bin/python benchmarks/levers.py --work /tmp/tradeoff
    .venv/bin/python benchmarks/levers.py --work /tmp/tradeoff --pairs tubingen:the_scream \\
        --variants "the photo's colours=--init content;content weight 30=--balance fixed --content-weight 30"

Each variant (``label=options`` separated by ``;``, the options added to the
default run's command; the default itself always runs) runs as a whole process
at --size on every pair, and its picture is judged (benchmarks/judge.py
`relative_verdict`). The peers' default pictures are read from the work folder
(`tradeoff.py --only peers` makes them; a peer that is not there counts as not
run). Prints, per pair, each variant's style distance / content with N where it
dominates neural-style's picture and P where it dominates pastiche's (n, p: it
does not), then per variant the pairs it dominates per peer and those where it
beats the default on both counts. Runs are cached in the work folder (one older
than the package's code is run again). Reads ../shared/images.

``--per-pair-weight "label=K,REF,EXPONENT"`` adds a variant whose content weight
differs per pair: ``K · (s0 / REF) ** EXPONENT``, where s0 is the pair's
`photo_style_loss`, e.g. ``"scaled=28,60,0.5"``, under ``--balance fixed``: what
the default's balance 'pair' does inside the run, emulated from outside.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "benchmarks"))
import balance  # noqa: E402
import judge  # noqa: E402
import tradeoff  # noqa: E402
from quality import Bench, cpu_flags, git_state, images_of  # noqa: E402
from schedule import variant_run  # noqa: E402

DEFAULT = "the default"
VARIANTS = ("the photo's own colours (--init content)=--init content;"
            "content weight 30 for every pair=--balance fixed --content-weight 30")
MARKS = {"neural-style": "N", "pastiche": "P"}


def photo_style_loss(bench: Bench, content: Path, style: Path, size: int) -> float:
    """s0: the default run's style loss at the photograph itself (a whole process of 0 iterations started
    from the photo; its record's loss), how far the photo starts from the painting in neuralstyle's own
    terms."""
    out = bench.work / f"{content.stem}_{style.stem}_{size}_photo_loss.png"
    record = out.with_suffix(".json")
    if not tradeoff.made_with_this_code(record):
        bench.timed([str(part) for part in tradeoff.our_command(content, style, size, out, "--iterations", "0",
                                                                 "--init", "content")])
    return json.loads(record.read_text())["final_loss"]["style"]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pairs", default=",".join(f"{p}:{q}" for p in tradeoff.PHOTOS for q in tradeoff.PAINTINGS))
    parser.add_argument("--size", type=int, default=256)
    parser.add_argument("--variants", default=VARIANTS)
    parser.add_argument("--per-pair-weight", help="label=K,REF,EXPONENT: content weight K·(s0/REF)^EXPONENT per pair")
    parser.add_argument("--work", type=Path, required=True)
    arguments = parser.parse_args()
    arguments.work.mkdir(parents=True, exist_ok=True)
    bench = Bench(arguments.work, precision="", snapshot=None, extra=[])
    variants = [(DEFAULT, "")] + [tuple(item.split("=", 1)) for item in arguments.variants.split(";") if item.strip()]
    per_pair = None
    if arguments.per_pair_weight:
        label, numbers = arguments.per_pair_weight.split("=", 1)
        per_pair = (label, *map(float, numbers.split(",")))
        variants.append((label, None))
    counts = {label: {"better": 0, **{tool: [0, 0] for tool in tradeoff.PEERS}} for label, _ in variants}
    lines = ["| pair | " + " | ".join(label for label, _ in variants) + " | "
             + " | ".join(f"{tool} default" for tool in tradeoff.PEERS) + " |",
             "|---" * (1 + len(variants) + len(tradeoff.PEERS)) + "|"]
    for pair in arguments.pairs.split(","):
        content, style = images_of(pair)
        peers = {tool: balance.peer(arguments.work, f"{content.stem}_{style.stem}_{arguments.size}", tool)
                 for tool in tradeoff.PEERS}
        cells, default = [], None
        for label, options in variants:
            if options is None:  # the per-pair weight
                _, factor, reference, exponent = per_pair
                s0 = photo_style_loss(bench, content, style, arguments.size)
                options = f"--balance fixed --content-weight {factor * (s0 / reference) ** exponent:.1f}"
                print(f"{pair}: s0 {s0:.1f}, {options}", file=sys.stderr, flush=True)
            verdict = variant_run(bench, content, style, arguments.size, label, options).verdict
            default = default or verdict
            if label != DEFAULT and verdict.style_distance <= default.style_distance \
                    and verdict.content_similarity >= default.content_similarity:
                counts[label]["better"] += 1
            marks = ""
            for tool, peer in peers.items():
                if peer is not None:
                    won = judge.dominates(verdict, peer)
                    counts[label][tool][0] += won
                    counts[label][tool][1] += 1
                    marks += MARKS[tool] if won else MARKS[tool].lower()
            cells.append(f"{verdict.style_distance:.3f} / {verdict.content_similarity:.3f} {marks}")
        lines.append(f"| {pair} | " + " | ".join(cells) + " | " + " | ".join(
            "not run" if peer is None else f"{peer.style_distance:.3f} / {peer.content_similarity:.3f}"
            for peer in peers.values()) + " |")
        print(f"done {pair}", file=sys.stderr, flush=True)
    print(f"- {cpu_flags()}\n- {git_state(None)}\n")
    print("\n".join(lines))
    print("\n| variant | dominates neural-style | dominates pastiche | better than the default on both counts |")
    print("|---|---|---|---|")
    for label, _ in variants:
        row = counts[label]
        print(f"| {label} | " + " | ".join(f"{row[tool][0]} of {row[tool][1]}" for tool in tradeoff.PEERS)
              + f" | {'–' if label == DEFAULT else row['better']} |")


if __name__ == "__main__":
    main()
