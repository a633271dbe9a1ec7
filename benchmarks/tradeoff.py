"""Defaults against every peer's default: style distance, content and time, per pair and size.

    .venv/bin/python benchmarks/tradeoff.py --work /tmp/tradeoff                     # every pair at 256 and 512 px
    .venv/bin/python benchmarks/tradeoff.py --work /tmp/tradeoff --pairs tubingen:starry_night --sizes 256
    .venv/bin/python benchmarks/tradeoff.py --work /tmp/tradeoff --only peers        # the peers' pictures only
    .venv/bin/python benchmarks/tradeoff.py --work /tmp/tradeoff --sizes 512 --only frames --at 150,200 --finer-at 25,50

For each pair (photograph:painting, from ../shared/images; by default every
photograph with every painting there) and size:

1. The peers run at their own defaults as whole processes, timed from launch:
   neural-style 0.5.7 (benchmarks/neural_style_peer.py: 1000 L-BFGS
   iterations, content 5, style 100, TV 1e-3, noise start, on the same VGG19
   weights) and pastiche 1.6.0 (60 steps, its default weights; its environment
   as benchmarks/run.py makes it). Their pictures stay in the work folder and
   are not run again.
2. neuralstyle runs at its defaults (no option but size), a frame saved every
   ``EVERY`` iterations (twice that from 1024 px, where judging one takes a
   minute). The judge (benchmarks/judge.py `relative_verdict`: style distance
   relative to the photograph's own, content similarity, both at VGG19 layers
   no tool's loss reads) finds the first frame that *dominates* each peer's
   picture (style at most the peer's, content at least the peer's less 0.02);
   that many iterations then run as a whole process of their own, timed, and
   its picture is judged again (the next frames' counts are tried if it falls
   short, then the last size's own frames: a smaller size's frame is judged at
   that size, but a run stopped there still ends at the full size; with three
   sizes or more only the last size's frames are tried, as a half-size picture
   upsampled has none of the full size's fine texture): its wall time ÷ the
   peer's is the time to the peer's quality.
3. Balance: the default run's two figures at each size against the same pair's
   at the smallest size (the issue's bound: within 0.03).

``--only frames`` runs nothing: it judges the frames an earlier call saved of
each default run, at ``--at`` iterations of its first size and ``--finer-at``
iterations into its last, beside each size's end. An L-BFGS-B run takes the
same steps whatever its budget, so a frame at 200 is the picture a run of 200
iterations would end with: how many iterations the default schedule needs.

Wall times are whole processes on a machine that may be busy; each process's
CPU time is printed beside it. The table goes to stdout (markdown).
"""

from __future__ import annotations

import argparse
import functools
import json
import os
import sys
from dataclasses import asdict, dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "benchmarks"))
import judge  # noqa: E402
import neural_style_peer  # noqa: E402
from quality import SHARED, Bench, cpu_flags, git_state, images_of  # noqa: E402  (Bench: whole processes timed, pastiche's command)

PHOTOS = ("tubingen", "golden_gate")
PAINTINGS = ("starry_night", "the_scream", "shipwreck", "seated-nude", "picasso_selfport1907")
SIZES = (256, 512)
PEERS = ("neural-style", "pastiche")
PASTICHE_STEPS = 60
EVERY = 5  # iterations between the default run's saved frames


def frames_every(size: int) -> int:
    """Iterations between the default run's saved frames at `size` px: fewer frames from 1024 px."""
    return EVERY * (2 if size >= 1024 else 1)


@dataclass
class Timed:
    """A whole process: its picture, wall and CPU seconds, and the judge's figures."""

    output: str
    seconds: float
    cpu_seconds: float
    style_distance: float = float("nan")
    content_similarity: float = float("nan")
    iterations: str | int | None = None  # what --iterations was
    # The machine's 1-minute load average around the run, its own threads included (a run alone on 2 cores
    # reads about 1-2; NaN in notes from before it was kept): a cached peer time taken while other work ran
    # shows as such instead of passing for a quiet one.
    load: float = float("nan")

    @property
    def verdict(self) -> judge.Verdict:
        return judge.Verdict(self.style_distance, self.content_similarity)


def made_with_this_code(note: Path) -> bool:
    """Whether a cached neuralstyle run (its note) was made after the package's code last changed: an
    older one, e.g. "the default" before a default moved, is run again."""
    code = max(path.stat().st_mtime for path in (ROOT / "neuralstyle").rglob("*.py"))
    return note.exists() and note.stat().st_mtime > code


def judged(run: Timed, content: Path, style: Path) -> Timed:
    verdict = judge.relative_verdict(run.output, content, style)
    run.style_distance, run.content_similarity = verdict.style_distance, verdict.content_similarity
    return run


def peer_run(bench: Bench, peer: str, content: Path, style: Path, size: int) -> Timed:
    """The peer's default picture of the pair at `size` (run once; kept in the work folder)."""
    stem = f"{content.stem}_{style.stem}_{size}_{peer}"
    out, note = bench.work / f"{stem}.png", bench.work / f"{stem}.json"
    if note.exists() and out.exists():
        return Timed(**json.loads(note.read_text()))
    if peer == "neural-style":
        python, model_file = neural_style_peer.ensure()
        command = [python, "-m", "neural_style.neural_style", "-content_image", content, "-style_image", style,
                   "-image_size", size, "-gpu", "c", "-model_file", model_file, "-disable_check",
                   "-output_image", out, "-print_iter", "0", "-save_iter", "0", "-seed", "0"]
    else:
        command = bench.peer_command(content, style, out, size, PASTICHE_STEPS)
    run = judged(whole_process(bench, command, out), content, style)
    note.write_text(json.dumps(asdict(run)))
    return run


def whole_process(bench: Bench, command: list, out: Path, iterations: str | None = None) -> Timed:
    seconds = bench.timed([str(part) for part in command])
    return Timed(str(out), seconds, bench.last_cpu, iterations=iterations, load=bench.last_load)


def our_command(content: Path, style: Path, size: int, out: Path, *extra) -> list:
    return [sys.executable, "-m", "neuralstyle", "transfer", content, style, "-o", out, "--size", size, "--quiet",
            "--overwrite", *extra]


def iterations_to(iteration: int, counts: list[int]) -> str:
    """The --iterations of a run that stops where the default run's frame `iteration` was (its sizes ran
    `counts` iterations each): within the first size, that count on the default schedule (each larger size
    then runs its share, so the output has the full size); later, the sizes before in full and this one in
    part."""
    done = 0
    for scale, count in enumerate(counts):
        if iteration <= done + count:
            if scale == 0:
                return str(iteration)
            return ",".join(map(str, [*counts[:scale], iteration - done] + [0] * (len(counts) - scale - 1)))
        done += count
    return ",".join(map(str, counts))


def seconds_at(record: dict, seconds: float, iteration: int) -> float:
    """Seconds since launch at the end of `iteration` of a run that took `seconds` in all: its wall time
    less what its optimiser still had to do."""
    before, last, elapsed = 0.0, 0.0, {}
    for entry in record["history"]:
        if entry["elapsed"] < last:  # a record from before the sizes shared one clock: this size's began at 0
            before += last
        last = entry["elapsed"]
        elapsed[entry["iteration"]] = before + last
    return seconds - (before + last - elapsed[iteration])


@functools.lru_cache(maxsize=None)
def frame_verdict(path: Path, content: Path, style: Path) -> judge.Verdict:
    return judge.relative_verdict(path, content, style)


def first_dominating(frames: Path, content: Path, style: Path, peer: judge.Verdict, limit: int,
                     after: int = 0) -> list[int]:
    """The first `limit` iteration counts after `after` of the default run's frames that dominate `peer`,
    rising (the frames after them are not judged: at 1024 px each takes seconds)."""
    found = []
    for path in sorted(frames.glob("frame_*.png")):
        iteration = int(path.stem.split("_")[1])
        if iteration > after and judge.dominates(frame_verdict(path, content, style), peer):
            found.append(iteration)
            if len(found) == limit:
                break
    return found


def measure(bench: Bench, pair: str, size: int, peers: tuple[str, ...], folder: Path = SHARED) -> dict:
    content, style = images_of(pair, folder)
    stem = f"{content.stem}_{style.stem}_{size}"
    result = {"pair": pair, "size": size, "peers": {peer: peer_run(bench, peer, content, style, size) for peer in peers}}
    frames = bench.work / f"{stem}_frames"
    out = bench.work / f"{stem}_neuralstyle.png"
    command = our_command(content, style, size, out, "--frames", frames, "--save-every", frames_every(size))
    result["ours"] = judged(whole_process(bench, command, out), content, style)
    counts = json.loads(out.with_suffix(".json").read_text())["settings"]["iterations"]
    result["reached"] = {}
    # A frame of a smaller size is judged at that size; a run stopped there still ends at the full size,
    # which may fall short. The last size's own frames are then tried too.
    last_size_after = sum(counts[:-1])
    smaller_sizes_stand = len(counts) <= 2
    for peer, reference in result["peers"].items():
        reached = None
        candidates = first_dominating(frames, content, style, reference.verdict, limit=3,
                                      after=0 if smaller_sizes_stand else last_size_after)
        if smaller_sizes_stand and last_size_after and all(iteration <= last_size_after for iteration in candidates):
            candidates += first_dominating(frames, content, style, reference.verdict, limit=3, after=last_size_after)
        for iteration in candidates:
            iterations = iterations_to(iteration, counts)
            out = bench.work / f"{stem}_neuralstyle_{iterations.replace(',', '-')}.png"
            command = our_command(content, style, size, out, "--iterations", iterations)
            run = judged(whole_process(bench, command, out, iterations), content, style)
            if judge.dominates(run.verdict, reference.verdict):
                reached = run
                break
        result["reached"][peer] = reached
    return result


def frames_line(work: Path, pair: str, size: int, at: list[int], finer_at: list[int], folder: Path = SHARED) -> str:
    """One table row: the default run's saved frames (of an earlier call) judged at `at` iterations of its first
    size and `finer_at` into its last, beside each size's end ("–" where that size ended before); each cell
    is the last frame saved by then, its iteration within its size in brackets."""
    content, style = images_of(pair, folder)
    stem = f"{content.stem}_{style.stem}_{size}"
    frames, out = work / f"{stem}_frames", work / f"{stem}_neuralstyle.png"
    ends = {}  # each size's last iteration
    for entry in json.loads(out.with_suffix(".json").read_text())["history"]:
        ends[entry["scale"]] = entry["iteration"]
    last = max(ends)
    before_last = ends[last - 1] if last else 0  # the iteration the last size started after
    saved = sorted(int(path.stem.split("_")[1]) for path in frames.glob("frame_*.png"))

    def at_iteration(iteration: int, since: int) -> str:
        """The figures of the last frame saved at or before `iteration` and after `since` (the first size's
        from 0), and how many iterations into its size it is."""
        if iteration == ends[last]:
            path, shown = out, iteration
        else:
            shown = max((count for count in saved if since < count <= iteration or count == since == 0), default=None)
            if shown is None:
                return "no frame"
            path = frames / f"frame_{shown:05d}.png"
        return f"{figures(judged(Timed(str(path), 0.0, 0.0), content, style))} ({shown - since})"

    cells = [at_iteration(count, 0) if count <= ends[0] else "–" for count in at]
    cells.append(at_iteration(ends[0], 0))
    if last:
        cells += [at_iteration(before_last + count, before_last) if before_last + count <= ends[last] else "–"
                  for count in finer_at]
        cells.append(at_iteration(ends[last], before_last))
    return f"| {pair} | {size} | " + " | ".join(cells) + " |"


def timing(run: Timed) -> str:
    """Wall s (CPU s, load average) of a whole process."""
    load = "?" if run.load != run.load else f"{run.load:.1f}"
    return f"{run.seconds:.1f} ({run.cpu_seconds:.1f}, load {load})"


def figures(run: Timed) -> str:
    return f"{run.style_distance:.3f} / {run.content_similarity:.3f}"


def table(results: list[dict], peers: tuple[str, ...]) -> list[str]:
    head = "| pair | size | neuralstyle default: wall s (CPU s, load), style / content |"
    rule = "|---|---|---|"
    for peer in peers:
        head += f" {peer} default: wall s (CPU s, load), style / content | dominated? | neuralstyle first dominating: iterations, wall s, ratio (CPU ratio) |"
        rule += "---|---|---|"
    lines = [head, rule]
    for result in results:
        ours = result["ours"]
        line = f"| {result['pair']} | {result['size']} | {timing(ours)}, {figures(ours)} |"
        for peer in peers:
            reference, reached = result["peers"][peer], result["reached"][peer]
            line += (f" {timing(reference)}, {figures(reference)} |"
                     f" {'yes' if judge.dominates(ours.verdict, reference.verdict) else 'no'} |")
            line += (f" {reached.iterations}, {reached.seconds:.1f} s, {reached.seconds / reference.seconds:.2f}"
                     f" ({reached.cpu_seconds / reference.cpu_seconds:.2f}) |" if reached else " never |")
        lines.append(line)
    return lines


def balance_lines(results: list[dict]) -> list[str]:
    smallest = min(result["size"] for result in results)
    base = {result["pair"]: result["ours"] for result in results if result["size"] == smallest}
    lines = [f"| pair | size | style / content | change from {smallest} px | within {judge.LOOK_TOLERANCE} | "
             "the change as balance / quality |", "|---|---|---|---|---|---|"]
    for result in results:
        if result["size"] == smallest or result["pair"] not in base:
            continue
        change = judge.look_change(result["ours"], base[result["pair"]])
        lines.append(f"| {result['pair']} | {result['size']} | {figures(result['ours'])} | {change.style:+.3f} / "
                     f"{change.content:+.3f} | {'yes' if change.within else 'no'} | "
                     f"{change.balance:+.3f} / {change.quality:+.3f} |")
    return lines


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pairs", default=",".join(f"{p}:{q}" for p in PHOTOS for q in PAINTINGS))
    parser.add_argument("--sizes", default=",".join(map(str, SIZES)))
    parser.add_argument("--peers", default=",".join(PEERS))
    parser.add_argument("--only", choices=("peers", "frames"),
                        help="peers: make the peers' pictures and stop; frames: judge the saved frames of earlier calls")
    parser.add_argument("--at", default="150,200", help="with --only frames: iterations of the first size")
    parser.add_argument("--finer-at", default="25,50", help="with --only frames: iterations into the last size")
    parser.add_argument("--work", type=Path, required=True, help="pictures, frames and the children's log")
    parser.add_argument("--images", type=Path, default=SHARED,
                        help="the folder of the pairs' JPEGs (default ../shared/images; benchmarks/unseen_images.py "
                             "makes one of other photographs)")
    arguments = parser.parse_args()
    arguments.work.mkdir(parents=True, exist_ok=True)
    bench = Bench(arguments.work, precision="", snapshot=None, extra=[])
    peers = tuple(filter(None, arguments.peers.split(",")))
    pairs, sizes = arguments.pairs.split(","), [int(size) for size in arguments.sizes.split(",")]
    if arguments.only == "frames":
        at, finer_at = ([int(count) for count in text.split(",")] for text in (arguments.at, arguments.finer_at))
        print(f"| pair | size | {' | '.join(f'first size at {count}' for count in at)} | first size's end | "
              f"{' | '.join(f'last size at {count}' for count in finer_at)} | the run's end |")
        print("|---|---|" + "---|" * (len(at) + len(finer_at) + 2))
        for size in sizes:
            for pair in pairs:
                print(frames_line(arguments.work, pair, size, at, finer_at, arguments.images), flush=True)
        return
    if arguments.only == "peers":
        for size in sizes:
            for pair in pairs:
                for peer in peers:
                    run = peer_run(bench, peer, *images_of(pair, arguments.images), size)
                    print(f"{pair} {size} {peer}: {timing(run)}, {figures(run)}", flush=True)
        return
    results = []
    for size in sizes:
        for pair in pairs:
            results.append(measure(bench, pair, size, peers, arguments.images))
            print(f"done {pair} at {size}", file=sys.stderr, flush=True)
    print(f"- {cpu_flags()}\n- {git_state(None)}; KERAS_BACKEND={os.environ.get('KERAS_BACKEND', 'tensorflow')}\n")
    print("\n".join(table(results, peers)))
    print()
    print("\n".join(balance_lines(results)))


if __name__ == "__main__":
    main()
