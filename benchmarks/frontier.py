"""Each tool's style/content trade-off per pair, over its own weights, with wall time; plotted.

    .venv/bin/python benchmarks/frontier.py --work /tmp/tradeoff                    # every pair, 256 px
    .venv/bin/python benchmarks/frontier.py --work /tmp/tradeoff --size 512 --pairs tubingen:starry_night \
        --neural-style-weights "" --plot docs/frontier_512.png

For each pair (photograph:painting from ../shared/images; by default every
photograph with every painting) at --size:

* neuralstyle: one whole process per content weight in --content-weights (the
  ``--content-weight`` of the command line, which balance 'raw' then scales
  for the pair; the default is the middle one), at its defaults otherwise (the
  default schedule: at 512 px 200 iterations at 256 px, then 100 at 512), a
  frame saved every ``EVERY`` iterations. The frames ``JUDGED`` iterations
  into the run's last size are judged (benchmarks/judge.py
  `relative_verdict`, at that size: a smaller size's frame is not a picture of
  this size) and timed by the process's wall time less what its optimiser
  still had to do, start-up included.
* pastiche 1.6.0: one whole process per content weight in --pastiche-weights
  (60 steps, its other defaults).
* neural-style 0.5.7: one whole process per content weight in
  --neural-style-weights (1000 iterations, its other defaults; its default
  picture is the one ``tradeoff.py`` keeps in the same folder).

A peer's point is *dominated* when one of neuralstyle's points has a style
distance at most the peer's and content at least the peer's less
``judge.CONTENT_MARGIN``, in less wall time. Printed (markdown): every peer
point with the cheapest neuralstyle point that dominates it; and, per content
weight, on how many pairs neuralstyle's finished run dominates each peer's
default. With --plot, one panel per pair: style distance against content,
neuralstyle's curves (one per content weight, iterations along them), the
peers' points.

Runs are cached in the work folder (a JSON file per run; neuralstyle's are run
again once the package's code is newer); the machine may be
busy, so wall times are printed with that caveat, and style / content do not
depend on it.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "benchmarks"))
import judge  # noqa: E402
import neural_style_peer  # noqa: E402
import tradeoff  # noqa: E402
from neuralstyle.core import settings  # noqa: E402
from quality import Bench, cpu_flags, git_state, images_of  # noqa: E402

CONTENT_WEIGHTS = (settings.CONTENT_WEIGHT / 2, settings.CONTENT_WEIGHT, settings.CONTENT_WEIGHT * 2)
PASTICHE_DEFAULT = 1.0
PASTICHE_WEIGHTS = (PASTICHE_DEFAULT, 10.0)
NEURAL_STYLE_DEFAULT = 5.0
NEURAL_STYLE_WEIGHTS = (NEURAL_STYLE_DEFAULT,)
EVERY = 10
JUDGED = (10, 20, 30, 40, 60, 80, 100, 150, 200, 250, 300)  # iterations into the run's last size


def point(verdict: judge.Verdict, seconds: float, **label) -> dict:
    return {**label, "style": verdict.style_distance, "content": verdict.content_similarity, "seconds": seconds}


def our_curve(bench: Bench, content: Path, style: Path, size: int, weight: float) -> list[dict]:
    """neuralstyle's points along one run at content weight `weight`, its last size's frames only:
    iterations (of the whole run), style, content and seconds since launch (the last point is the result)."""
    stem = f"{content.stem}_{style.stem}_{size}_cw{weight:g}"
    note = bench.work / f"{stem}_points.json"
    if tradeoff.made_with_this_code(note):
        return json.loads(note.read_text())
    frames, out = bench.work / f"{stem}_frames", bench.work / f"{stem}.png"
    command = tradeoff.our_command(content, style, size, out, "--content-weight", weight,
                                   "--frames", frames, "--save-every", EVERY)
    seconds = bench.timed([str(part) for part in command])
    record = json.loads(out.with_suffix(".json").read_text())
    last_size_after = sum(record["settings"]["iterations"][:-1])
    points = [point(judge.relative_verdict(frame, content, style), tradeoff.seconds_at(record, seconds, iterations),
                    weight=weight, iterations=iterations)
              for into in JUDGED for iterations in [last_size_after + into] if iterations < record["iterations"]
              for frame in [frames / f"frame_{iterations:05d}.png"] if frame.exists()]
    points.append(point(judge.relative_verdict(out, content, style), seconds, weight=weight,
                        iterations=record["iterations"], final=True))
    note.write_text(json.dumps(points))
    return points


def pastiche_point(bench: Bench, content: Path, style: Path, size: int, weight: float) -> dict:
    if weight == PASTICHE_DEFAULT:  # the same picture tradeoff.py keeps
        run = tradeoff.peer_run(bench, "pastiche", content, style, size)
        return {"tool": "pastiche", "weight": weight, "style": run.style_distance, "content": run.content_similarity,
                "seconds": run.seconds}
    stem = f"{content.stem}_{style.stem}_{size}_pastiche_cw{weight:g}"
    note = bench.work / f"{stem}.json"
    if not note.exists():
        out = bench.work / f"{stem}.png"
        seconds = bench.timed(bench.peer_command(content, style, out, size, tradeoff.PASTICHE_STEPS, weight))
        note.write_text(json.dumps(point(judge.relative_verdict(out, content, style), seconds, weight=weight)))
    return {"tool": "pastiche", **json.loads(note.read_text())}


def neural_style_point(bench: Bench, content: Path, style: Path, size: int, weight: float) -> dict:
    if weight == NEURAL_STYLE_DEFAULT:  # the same picture tradeoff.py keeps
        run = tradeoff.peer_run(bench, "neural-style", content, style, size)
        return {"tool": "neural-style", "weight": weight, "style": run.style_distance,
                "content": run.content_similarity, "seconds": run.seconds}
    stem = f"{content.stem}_{style.stem}_{size}_neural-style_cw{weight:g}"
    note = bench.work / f"{stem}.json"
    if not note.exists():
        out = bench.work / f"{stem}.png"
        seconds = neural_style_peer.run(str(content), str(style), size, out, content_weight=weight)
        note.write_text(json.dumps(point(judge.relative_verdict(out, content, style), seconds, weight=weight)))
    return {"tool": "neural-style", **json.loads(note.read_text())}


def dominated_by(peer: dict, ours: list[dict]) -> dict | None:
    """The fastest of `ours` that dominates `peer` in less wall time, or None."""
    reference = judge.Verdict(peer["style"], peer["content"])
    found = [candidate for candidate in ours if candidate["seconds"] < peer["seconds"]
             and judge.dominates(judge.Verdict(candidate["style"], candidate["content"]), reference)]
    return min(found, key=lambda candidate: candidate["seconds"], default=None)


def plot(results: list[dict], path: Path, size: int) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    columns = min(5, len(results))
    rows = -(-len(results) // columns)
    figure, axes = plt.subplots(rows, columns, figsize=(max(3.2 * columns, 7.0), 3.0 * rows + 0.4), squeeze=False)
    for axis, result in zip(axes.flat, results):
        for weight, curve in result["ours"].items():
            axis.plot([p["style"] for p in curve], [p["content"] for p in curve], "-o", markersize=2.5,
                      linewidth=1, label=f"neuralstyle cw {weight:g}")
            final = curve[-1]
            axis.plot(final["style"], final["content"], "o", markersize=6, markerfacecolor="none",
                      color=axis.lines[-1].get_color())
        for peer in result["peers"]:
            marker = "s" if peer["tool"] == "pastiche" else "*"
            axis.plot(peer["style"], peer["content"], marker, color="black", markersize=7 if marker == "*" else 5,
                      label=f"{peer['tool']} (its content weight beside)")
            axis.annotate(f"{peer['weight']:g}", (peer["style"], peer["content"]), textcoords="offset points",
                          xytext=(5, -3), fontsize=6)
        axis.set_title(result["pair"].replace(":", " × "), fontsize=8)
        axis.tick_params(labelsize=7)
        axis.grid(alpha=0.3)
    for axis in axes.flat[len(results):]:
        axis.axis("off")
    for axis in axes[:, 0]:
        axis.set_ylabel("content (higher: more photo)", fontsize=7)
    for axis in axes[-1, :]:
        axis.set_xlabel("style distance (lower: more painting)", fontsize=7)
    handles, labels = axes.flat[0].get_legend_handles_labels()
    unique = dict(zip(labels, handles))
    columns_of_legend = 3
    legend_rows = -(-len(unique) // columns_of_legend)
    figure.legend(unique.values(), unique.keys(), loc="lower center", ncol=columns_of_legend, fontsize=7,
                  frameon=False)
    figure.suptitle(f"{size} px: style distance against content along each run; circles: where a run finished "
                    f"(content weight {settings.CONTENT_WEIGHT:g} is the default)", fontsize=8)
    figure.tight_layout(rect=(0, 0.035 * legend_rows / rows + 0.02, 1, 0.96))
    figure.savefig(path, dpi=110)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pairs", default=",".join(f"{p}:{q}" for p in tradeoff.PHOTOS for q in tradeoff.PAINTINGS))
    parser.add_argument("--size", type=int, default=256)
    parser.add_argument("--content-weights", default=",".join(f"{weight:g}" for weight in CONTENT_WEIGHTS))
    parser.add_argument("--pastiche-weights", default=",".join(f"{weight:g}" for weight in PASTICHE_WEIGHTS))
    parser.add_argument("--neural-style-weights", default=",".join(f"{weight:g}" for weight in NEURAL_STYLE_WEIGHTS),
                        help='"" for none (its 1000 iterations are the slowest runs here)')
    parser.add_argument("--work", type=Path, required=True, help="pictures, frames, cached runs and the children's log")
    parser.add_argument("--plot", type=Path, help="write the panels here (PNG)")
    arguments = parser.parse_args()
    if arguments.plot:
        try:
            import matplotlib  # noqa: F401  (before the runs, not after them)
        except ImportError:
            parser.error("--plot needs matplotlib (pip install -e '.[plot]')")
    arguments.work.mkdir(parents=True, exist_ok=True)
    bench = Bench(arguments.work, precision="", snapshot=None, extra=[])
    weights = [float(weight) for weight in arguments.content_weights.split(",")]
    pastiche_weights = [float(weight) for weight in filter(None, arguments.pastiche_weights.split(","))]
    neural_style_weights = [float(weight) for weight in filter(None, arguments.neural_style_weights.split(","))]
    results = []
    for pair in arguments.pairs.split(","):
        content, style = images_of(pair)
        ours = {weight: our_curve(bench, content, style, arguments.size, weight) for weight in weights}
        peers = [pastiche_point(bench, content, style, arguments.size, weight) for weight in pastiche_weights]
        peers += [neural_style_point(bench, content, style, arguments.size, weight) for weight in neural_style_weights]
        results.append({"pair": pair, "ours": ours, "peers": peers})
        print(f"done {pair}", file=sys.stderr, flush=True)

    print(f"- {cpu_flags()}\n- {git_state(None)}; {arguments.size} px\n")
    print("| pair | peer point: style / content, wall s | dominated? | by neuralstyle: content weight, iterations, "
          "style / content, wall s | time ratio |")
    print("|---|---|---|---|---|")
    for result in results:
        everything = [p for curve in result["ours"].values() for p in curve]
        for peer in result["peers"]:
            best = dominated_by(peer, everything)
            line = (f"| {result['pair']} | {peer['tool']} cw {peer['weight']:g}: {peer['style']:.3f} / "
                    f"{peer['content']:.3f}, {peer['seconds']:.0f} s | {'yes' if best else 'no'} |")
            line += (f" {best['weight']:g}, {best['iterations']}, {best['style']:.3f} / {best['content']:.3f}, "
                     f"{best['seconds']:.1f} s | {best['seconds'] / peer['seconds']:.2f} |" if best else " – | – |")
            print(line)
    print()
    print("| content weight | its finished run dominates pastiche's default | dominates neural-style's "
          "default | mean style / content of the finished run |")
    print("|---|---|---|---|")
    for weight in weights:
        counts = {"pastiche": [0, 0], "neural-style": [0, 0]}
        finals = []
        for result in results:
            final = result["ours"][weight][-1]
            finals.append(final)
            ours = judge.Verdict(final["style"], final["content"])
            for peer in result["peers"]:
                if peer["weight"] == (PASTICHE_DEFAULT if peer["tool"] == "pastiche" else NEURAL_STYLE_DEFAULT):
                    counts[peer["tool"]][1] += 1
                    counts[peer["tool"]][0] += judge.dominates(ours, judge.Verdict(peer["style"], peer["content"]))
        mean_style = sum(p["style"] for p in finals) / max(len(finals), 1)
        mean_content = sum(p["content"] for p in finals) / max(len(finals), 1)
        print(f"| {weight:g} | {counts['pastiche'][0]} of {counts['pastiche'][1]} | {counts['neural-style'][0]} of "
              f"{counts['neural-style'][1]} | {mean_style:.3f} / {mean_content:.3f} |")
    if arguments.plot:
        plot(results, arguments.plot, arguments.size)
        print(f"\nwrote {arguments.plot}", file=sys.stderr)


if __name__ == "__main__":
    main()
