"""Time to the peer's quality: how long neuralstyle takes to match pastiche's picture, by an independent judge.

    .venv/bin/python benchmarks/quality.py                          # 3 pairs at 256 and 512 px (about an hour on 2 cores)
    .venv/bin/python benchmarks/quality.py --pairs tubingen:starry_night --sizes 256 --ladder 5,10,20
    .venv/bin/python benchmarks/quality.py --tradeoff --pairs tubingen:starry_night --sizes 512

For each pair (photograph:painting, from ../shared/images) and size:

1. pastiche 1.6.0 (PyTorch, CPU; its own virtual environment, benchmarks/.peer-venv,
   as `run.py --only peer` makes it) runs 60 steps with its default loss weights;
   its whole process is timed from launch and its picture judged
   (benchmarks/judge.py: a style distance and a content similarity at VGG19
   layers neither tool's loss reads).
2. neuralstyle runs 60 iterations as a whole process (its default precision
   unless `--precision` says otherwise), timed: beside pastiche's 60 steps that is the
   *equal-iteration ratio*. That run also saves a frame after every iteration
   (`--frames`; a few ms each, inside its time).
3. The judge walks the ladder of iteration counts on those frames and finds
   the first count whose picture is at least as good as pastiche's on both
   counts (`judge.at_least_as_good`). neuralstyle then runs that many
   iterations as a whole process of its own, timed, and the judge checks *that*
   output; if it falls short, the next rungs run as whole processes until one
   passes (rungs above 60 always run as whole processes; the rung 60 is the
   equal-iteration run itself). That run's wall time
   ÷ pastiche's is the *time-to-quality ratio* (target ≤ 0.4 at 256 px,
   ≤ 0.25 at 512 px). `--search ladder` skips the frames and runs every rung
   as a whole process from the bottom.

The targets are about wall time; each process's CPU time (user + system) and
the load average around it are printed too, because on a busy machine the
two tools do not slow down alike: PyTorch's threads lose far more wall time
to other load than TensorFlow's (pastiche's 60 steps at 512 px took 161 s in
a quiet spell and 595 s at load 6 on the same 2-core machine). Time ratios
mean something only from a quiet machine.

With `--repeats N` the passing run and pastiche's run again in alternation,
N times in all, and the ratios are medians.

`--tradeoff`: for each pair and size, both tools run 60 iterations at several
content weights (pastiche 0.25 … 4, neuralstyle 0.25 … 8) and the judge's
(content similarity, style distance) of every point is printed, with
neuralstyle's content weight that matches pastiche's default content
similarity and neuralstyle's style distance there (linear interpolation
between neighbouring points), so the two tools compare at matched content.

With `--work DIR`, a trade-off point whose picture (NAME.png and NAME.seconds,
NAME = PHOTO_PAINTING_SIZE_TOOL_cwWEIGHT) is already there is judged, not run
again: a 60-iteration run with the default weights (1 for both tools) can
stand in for the weight-1 point.

`--snapshot REV` runs (and judges with) the neuralstyle package as committed
at REV (`git archive`) instead of the working tree, so that edits made while
it runs do not change the numbers. Children's output goes to a log in the
work folder (`--work`, default a temporary folder), never to the table.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SHARED = ROOT.parent / "shared" / "images"
sys.path.insert(0, str(ROOT / "benchmarks"))
from run import ensure_peer  # noqa: E402  (one copy of the peer's virtual environment recipe)

PAIRS = ("tubingen:starry_night", "golden_gate:the_scream", "tubingen:shipwreck")
SIZES = (256, 512)
LADDER = (5, 8, 10, 12, 15, 20, 25, 30, 40, 60, 80, 100)
PEER_STEPS = 60  # the setting, and the equal-iteration count
TARGETS = {256: 0.4, 512: 0.25}  # time-to-quality ratio targets; other sizes: report only
PEER_WEIGHTS = (0.25, 0.5, 1.0, 2.0, 4.0)
OUR_WEIGHTS = (0.25, 0.5, 1.0, 2.0, 4.0, 8.0)


@dataclass
class Run:
    """One whole process: what ran, its wall time, its picture and the judge's verdict."""

    tool: str
    iterations: int
    seconds: float
    output: str
    style_distance: float
    content_similarity: float
    content_weight: float | None = None
    note: str = ""
    cpu_seconds: float = 0.0  # user + system time of the process: less sensitive to other load than wall time
    load: float = 0.0  # the machine's 1-minute load average, mean of before and after


@dataclass
class PairResult:
    pair: str
    size: int
    peer: Run
    ours_equal: Run
    passing: Run | None
    tried: list[tuple[int, str, float, float, bool]] = field(default_factory=list)  # (iterations, how, style, content, passed)
    peer_times: list[float] = field(default_factory=list)
    passing_times: list[float] = field(default_factory=list)
    peer_cpu: list[float] = field(default_factory=list)
    passing_cpu: list[float] = field(default_factory=list)

    @property
    def time_ratio(self) -> float | None:
        if self.passing is None:
            return None
        return statistics.median(self.passing_times) / statistics.median(self.peer_times)

    @property
    def cpu_ratio(self) -> float | None:
        if self.passing is None:
            return None
        return statistics.median(self.passing_cpu) / statistics.median(self.peer_cpu)

    @property
    def equal_ratio(self) -> float:
        return self.ours_equal.seconds / statistics.median(self.peer_times)


class Bench:
    """The shared state of one measurement: work folder, log, commands, the judge."""

    def __init__(self, work: Path, precision: str, snapshot: Path | None, extra: list[str]):
        self.work, self.precision, self.snapshot, self.extra = work, precision, snapshot, extra
        self.log = work / "children.log"
        self.peer_python = str(ensure_peer())
        self.environment = dict(os.environ)
        if snapshot is not None:
            self.environment["PYTHONPATH"] = os.pathsep.join(
                [str(snapshot), *filter(None, [os.environ.get("PYTHONPATH")])])

    # --- commands -------------------------------------------------------------------------------------------
    def peer_command(self, content: Path, style: Path, out: Path, size: int, steps: int,
                     content_weight: float | None = None) -> list[str]:
        command = [self.peer_python, "-m", "pastiche", "--device", "cpu", "--no-verbose", "--size", str(size),
                   "--style-size", str(size), "--num-steps", str(steps), "--content", str(content),
                   "--styles", str(style), "--output", str(out)]
        return command + (["--content-weight", repr(content_weight)] if content_weight is not None else [])

    def our_command(self, content: Path, style: Path, out: Path, size: int, iterations: int,
                    content_weight: float | None = None, frames: Path | None = None) -> list[str]:
        command = [sys.executable, "-m", "neuralstyle", "transfer", str(content), str(style), "-o", str(out),
                   "--size", str(size), "--iterations", str(iterations), "--quiet", "--overwrite", *self.extra]
        if self.precision:
            command += ["--precision", self.precision]
        if content_weight is not None:  # the weight as given, not scaled for the pair
            command += ["--balance", "fixed", "--content-weight", repr(content_weight)]
        if frames is not None:
            command += ["--frames", str(frames), "--save-every", "1"]
        return command

    # --- running and judging ----------------------------------------------------------------------------------
    def timed(self, command: list[str]) -> float:
        """Wall time of the whole process, from launch; its output goes to the log, not the table."""
        with self.log.open("a") as log:
            log.write(f"\n$ {' '.join(command)}\n")
            log.flush()
            load, before = os.getloadavg()[0], resource.getrusage(resource.RUSAGE_CHILDREN)
            start = time.perf_counter()
            result = subprocess.run(command, stdout=log, stderr=subprocess.STDOUT, env=self.environment,
                                    cwd=self.work)
            seconds = time.perf_counter() - start
            after = resource.getrusage(resource.RUSAGE_CHILDREN)
            self.last_cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
            self.last_load = (load + os.getloadavg()[0]) / 2
            log.write(f"[{time.strftime('%H:%M:%S')} exit {result.returncode}, {seconds:.2f} s wall, "
                      f"{self.last_cpu:.2f} s CPU, load {self.last_load:.2f}]\n")
        if result.returncode != 0:
            tail = self.log.read_text()[-3000:]
            raise SystemExit(f"{' '.join(command)} failed (exit {result.returncode}):\n{tail}")
        return seconds

    def verdict(self, output: Path, content: Path, style: Path):
        import judge
        from PIL import Image

        with Image.open(output) as picture, Image.open(content) as photo, Image.open(style) as painting:
            return judge.judge(picture.convert("RGB"), photo, painting)

    def run(self, tool: str, content: Path, style: Path, size: int, iterations: int, name: str,
            content_weight: float | None = None, frames: Path | None = None) -> Run:
        out = self.work / f"{name}.png"
        if tool == "pastiche":
            command = self.peer_command(content, style, out, size, iterations, content_weight)
        else:
            command = self.our_command(content, style, out, size, iterations, content_weight, frames)
        seconds = self.timed(command)
        out.with_suffix(".seconds").write_text(f"{seconds}\n")  # lets --tradeoff reuse it (see `tradeoff`)
        found = self.verdict(out, content, style)
        return Run(tool, iterations, seconds, str(out), found.style_distance, found.content_similarity,
                   content_weight, cpu_seconds=self.last_cpu, load=self.last_load)


def images_of(pair: str, folder: Path = SHARED) -> tuple[Path, Path]:
    """The photograph and the painting of "photo:painting", as JPEGs in `folder`."""
    photo, painting = pair.split(":")
    return folder / f"{photo}.jpg", folder / f"{painting}.jpg"


def time_to_quality(bench: Bench, pair: str, size: int, ladder: tuple[int, ...], search: str,
                    repeats: int, progress=print) -> PairResult:
    import judge

    content, style = images_of(pair)
    stem = f"{pair.replace(':', '_')}_{size}"
    peer = bench.run("pastiche", content, style, size, PEER_STEPS, f"{stem}_pastiche_{PEER_STEPS}")
    reference = judge.Verdict(peer.style_distance, peer.content_similarity)
    progress(f"  pastiche {PEER_STEPS} steps: {peer.seconds:.1f} s ({peer.cpu_seconds:.1f} s CPU, load "
             f"{peer.load:.1f}), style {peer.style_distance:.4f}, "
             f"content {peer.content_similarity:.4f}")

    frames = bench.work / f"{stem}_frames" if search == "frames" else None
    equal = bench.run("neuralstyle", content, style, size, PEER_STEPS, f"{stem}_ours_{PEER_STEPS}", frames=frames)
    progress(f"  neuralstyle {PEER_STEPS} iterations: {equal.seconds:.1f} s ({equal.cpu_seconds:.1f} s CPU, "
             f"load {equal.load:.1f}), style {equal.style_distance:.4f}, "
             f"content {equal.content_similarity:.4f}" + (" (frames saved)" if frames else ""))
    result = PairResult(pair, size, peer, equal, None, peer_times=[peer.seconds], peer_cpu=[peer.cpu_seconds])

    start = 0
    if frames is not None:  # the frames point at the first rung worth a whole process of its own
        start = len(ladder)
        for index, count in enumerate(ladder):
            if count > PEER_STEPS:
                start = index
                break
            found = bench.verdict(frames / f"frame_{count:05d}.png", content, style)
            passed = judge.at_least_as_good(found, reference)
            result.tried.append((count, "frame", found.style_distance, found.content_similarity, passed))
            progress(f"  frame {count}: style {found.style_distance:.4f}, content {found.content_similarity:.4f}"
                     f" -> {'pass' if passed else 'no'}")
            if passed:
                start = index
                break
    for count in ladder[start:]:
        if count == PEER_STEPS:  # the equal-iteration run is that whole process already
            candidate = equal
        else:
            candidate = bench.run("neuralstyle", content, style, size, count, f"{stem}_ours_{count}")
        passed = judge.at_least_as_good(judge.Verdict(candidate.style_distance, candidate.content_similarity),
                                        reference)
        result.tried.append((count, "process", candidate.style_distance, candidate.content_similarity, passed))
        progress(f"  neuralstyle {count} iterations: {candidate.seconds:.1f} s ({candidate.cpu_seconds:.1f} s CPU, "
                 f"load {candidate.load:.1f}), style "
                 f"{candidate.style_distance:.4f}, content {candidate.content_similarity:.4f} -> "
                 f"{'pass' if passed else 'no'}")
        if passed:
            result.passing, result.passing_times, result.passing_cpu = candidate, [candidate.seconds], [
                candidate.cpu_seconds]
            break
    if result.passing is not None:
        for _ in range(repeats - 1):  # in alternation, so that drifts in machine speed hit both
            result.peer_times.append(bench.timed(bench.peer_command(
                content, style, bench.work / f"{stem}_pastiche_again.png", size, PEER_STEPS)))
            result.peer_cpu.append(bench.last_cpu)
            result.passing_times.append(bench.timed(bench.our_command(
                content, style, bench.work / f"{stem}_ours_again.png", size, result.passing.iterations)))
            result.passing_cpu.append(bench.last_cpu)
    return result


def tradeoff(bench: Bench, pair: str, size: int, peer_weights, our_weights, progress=print) -> dict:
    content, style = images_of(pair)
    stem = f"{pair.replace(':', '_')}_{size}"
    points = {"pastiche": [], "neuralstyle": []}
    for tool, weights in (("pastiche", peer_weights), ("neuralstyle", our_weights)):
        for weight in weights:
            name = f"{stem}_{tool}_cw{weight:g}"
            kept = bench.work / f"{name}.png"
            if kept.exists() and kept.with_suffix(".seconds").exists():  # from an earlier run with this --work
                found = bench.verdict(kept, content, style)
                point = Run(tool, PEER_STEPS, float(kept.with_suffix(".seconds").read_text()), str(kept),
                            found.style_distance, found.content_similarity, weight, note="reused")
            else:
                point = bench.run(tool, content, style, size, PEER_STEPS, name, weight)
            points[tool].append(point)
            progress(f"  {tool} content weight {weight:g}: content {point.content_similarity:.4f}, "
                     f"style {point.style_distance:.4f}, {point.seconds:.1f} s")
    return points


def interpolate_at_content(points: list[Run], target: float) -> tuple[float, float] | None:
    """(content weight, style distance) where the curve through `points` (by content similarity) meets `target`."""
    ordered = sorted(points, key=lambda point: point.content_similarity)
    for low, high in zip(ordered, ordered[1:]):
        if low.content_similarity <= target <= high.content_similarity:
            span = high.content_similarity - low.content_similarity
            t = 0.0 if span == 0 else (target - low.content_similarity) / span
            return (low.content_weight + t * (high.content_weight - low.content_weight),
                    low.style_distance + t * (high.style_distance - low.style_distance))
    return None


# --- output ---------------------------------------------------------------------------------------------------
def cpu_flags() -> str:
    # Not neuralstyle.core.hardware.flags_line: a --snapshot of an older commit has no neuralstyle.core.hardware.
    try:
        flags = next(line for line in Path("/proc/cpuinfo").read_text().splitlines() if line.startswith("flags"))
        model = next(line for line in Path("/proc/cpuinfo").read_text().splitlines() if line.startswith("model name"))
    except (OSError, StopIteration):
        return "CPU flags: unknown"
    present = set(flags.split(":", 1)[1].split())
    wanted = ("avx2", "avx512f", "avx512_bf16", "amx_bf16")
    return (f"CPU: {model.split(':', 1)[1].strip()}, {os.cpu_count()} cores; flags: "
            + ", ".join(flag for flag in wanted if flag in present) + "; absent: "
            + (", ".join(flag for flag in wanted if flag not in present) or "none"))


def git_state(snapshot_rev: str | None) -> str:
    def git(*arguments):
        return subprocess.run(["git", *arguments], cwd=ROOT, capture_output=True, text=True).stdout.strip()

    head = git("log", "-1", "--format=%h")
    if snapshot_rev:
        return f"neuralstyle as committed at {git('rev-parse', '--short', snapshot_rev)} (snapshot; HEAD {head})"
    changed = git("status", "--short", "--", "neuralstyle")
    return f"neuralstyle working tree at {head}" + (
        f", with uncommitted changes in {len(changed.splitlines())} file(s) under neuralstyle/" if changed else ", clean")


def versions(bench: Bench) -> str:
    import keras
    import tensorflow

    peer = subprocess.run([bench.peer_python, "-c", "import torch, importlib.metadata as m; "
                                                    "print(torch.__version__, m.version('pastiche'))"],
                          capture_output=True, text=True).stdout.split()
    return (f"python {platform.python_version()}, tensorflow {tensorflow.__version__}, keras {keras.__version__}, "
            f"KERAS_BACKEND={os.environ.get('KERAS_BACKEND', 'tensorflow')}; peer: pastiche "
            f"{peer[1] if len(peer) > 1 else '?'}, torch {peer[0] if peer else '?'} (CPU)")


def verdict_text(run: Run) -> str:
    return f"{run.style_distance:.4f} / {run.content_similarity:.4f}"


def quality_table(results: list[PairResult], ladder) -> list[str]:
    lines = [f"| pair | size | pastiche {PEER_STEPS} steps: wall s, style / content | neuralstyle first at least as good: "
             f"iterations, wall s, style / content | time-to-quality ratio | target | met | CPU-time ratio | "
             f"neuralstyle {PEER_STEPS} iterations: wall s, style / content | equal-iteration ratio (CPU time) |",
             "|---|---|---|---|---|---|---|---|---|---|"]
    for result in results:
        target = TARGETS.get(result.size)
        peer_seconds = statistics.median(result.peer_times)
        equal = f"{result.ours_equal.seconds:.1f} s, {verdict_text(result.ours_equal)}"
        equal_cpu = result.ours_equal.cpu_seconds / statistics.median(result.peer_cpu)
        cpu = "–" if result.passing is None else f"{result.cpu_ratio:.2f}"
        if result.passing is None:
            ours, ratio, met = f"none up to {ladder[-1]} iterations", "> " + (
                f"{result.ours_equal.seconds / peer_seconds:.2f}" if ladder[-1] <= PEER_STEPS else "ladder"), False
        else:
            ours = (f"{result.passing.iterations}, {statistics.median(result.passing_times):.1f} s, "
                    f"{verdict_text(result.passing)}")
            ratio, met = f"{result.time_ratio:.2f}", target is not None and result.time_ratio <= target
        verdict = "–" if target is None else ("yes" if met else "**no**")
        lines.append(f"| {result.pair.replace(':', ' × ')} | {result.size} | {peer_seconds:.1f} s, "
                     f"{verdict_text(result.peer)} | {ours} | {ratio} | "
                     f"{'report' if target is None else f'≤ {target}'} | {verdict} | {cpu} | {equal} | "
                     f"{result.equal_ratio:.2f} ({equal_cpu:.2f}) |")
    return lines


def ladder_lines(results: list[PairResult]) -> list[str]:
    lines = ["", f"Rungs tried (style distance / content similarity; 'frame' = judged on the {PEER_STEPS}-iteration run's "
                 "frame, 'process' = a whole run of that many iterations):", ""]
    for result in results:
        steps = ", ".join(f"{count} {how} {style:.4f}/{content:.4f} {'pass' if passed else 'no'}"
                          for count, how, style, content, passed in result.tried)
        runs = [("pastiche", result.peer), (f"neuralstyle {PEER_STEPS}", result.ours_equal)] + (
            [(f"neuralstyle {result.passing.iterations}", result.passing)] if result.passing else [])
        times = "; CPU s and load average: " + ", ".join(f"{name} {run.cpu_seconds:.1f} s CPU at load {run.load:.1f}"
                                                        for name, run in runs)
        if len(result.peer_times) > 1:
            times = (f"; pastiche runs {', '.join(f'{t:.1f}' for t in result.peer_times)} s, "
                     f"neuralstyle runs {', '.join(f'{t:.1f}' for t in result.passing_times)} s")
        lines.append(f"* {result.pair.replace(':', ' × ')} at {result.size} px: {steps}{times}")
    return lines


def tradeoff_lines(pair: str, size: int, points: dict) -> list[str]:
    lines = [f"Trade-off, {pair.replace(':', ' × ')} at {size} px, {PEER_STEPS} iterations each:", "",
             "| tool | content weight | content similarity (higher: more photo) | style distance (lower: more "
             "painting) | wall s |", "|---|---|---|---|---|"]
    for tool, runs in points.items():
        for point in runs:
            lines.append(f"| {tool} | {point.content_weight:g} | {point.content_similarity:.4f} | "
                         f"{point.style_distance:.4f} | {point.seconds:.1f}{' (kept)' if point.note else ''} |")
    default = next((point for point in points["pastiche"] if point.content_weight == 1.0), None)
    if default is not None and points["neuralstyle"]:
        matched = interpolate_at_content(points["neuralstyle"], default.content_similarity)
        lines.append("")
        if matched is None:
            ours = points["neuralstyle"]
            above = all(point.content_similarity > default.content_similarity for point in ours)
            end = (min if above else max)(ours, key=lambda point: point.content_weight)
            lines.append(f"neuralstyle's curve does not reach pastiche's default content similarity "
                         f"({default.content_similarity:.4f}, style distance {default.style_distance:.4f}) "
                         f"within the weights tried: every point keeps {'more' if above else 'less'} of the photo; "
                         f"the match lies {'below' if above else 'above'} content weight {end.content_weight:g} "
                         f"(there: content {end.content_similarity:.4f}, style distance {end.style_distance:.4f}).")
        else:
            weight, style = matched
            lines.append(f"At pastiche's default content similarity ({default.content_similarity:.4f}, style "
                         f"distance {default.style_distance:.4f}), neuralstyle's curve has content weight ≈ "
                         f"{weight:.2f} and style distance ≈ {style:.4f} ({style / default.style_distance:.2f}× "
                         f"pastiche's; linear between neighbouring points).")
    return lines


def quality_rows(size: int, repeats: int, work: Path, pairs=PAIRS) -> list[tuple]:
    """run.py's rows: time-to-quality and equal-iteration ratios, each pair at `size`."""
    bench = Bench(work, "", None, [])  # neuralstyle's default precision, as the peer row runs it
    rows = []
    for pair in pairs:
        result = time_to_quality(bench, pair, size, LADDER, "frames", repeats, progress=lambda *_: None)
        target = TARGETS.get(size)
        name = pair.replace(":", " × ")
        peer_seconds = statistics.median(result.peer_times)
        if result.passing is None:
            rows.append((f"time to pastiche's 60-step quality at {size} px, {name} (judge: benchmarks/judge.py)",
                         f"not reached in {LADDER[-1]} iterations", "–",
                         f"≤ {target}" if target else "report", False if target else None))
        else:
            rows.append((f"time to pastiche's 60-step quality at {size} px, {name}: {result.passing.iterations} "
                         f"iterations (judge: benchmarks/judge.py)",
                         f"{statistics.median(result.passing_times):.1f} s ÷ {peer_seconds:.1f} s",
                         f"{result.time_ratio:.2f}", f"≤ {target}" if target else "report",
                         result.time_ratio <= target if target else None))
        rows.append((f"60-iteration transfer at {size} px, {name}, wall time ÷ pastiche's 60 steps (equal iterations)",
                     f"{result.ours_equal.seconds:.1f} s ÷ {peer_seconds:.1f} s", f"{result.equal_ratio:.2f}",
                     "report", None))
    return rows


def snapshot_of(rev: str, work: Path) -> Path:
    folder = work / "snapshot"
    if folder.exists():
        shutil.rmtree(folder)
    folder.mkdir()
    archive = subprocess.run(["git", "archive", rev, "neuralstyle"], cwd=ROOT, capture_output=True, check=True)
    subprocess.run(["tar", "-x", "-C", str(folder)], input=archive.stdout, check=True)
    return folder


def main() -> None:
    global PEER_STEPS
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pairs", default=",".join(PAIRS), help="photo:painting,... (names in ../shared/images)")
    parser.add_argument("--sizes", default=",".join(map(str, SIZES)))
    parser.add_argument("--ladder", default=",".join(map(str, LADDER)), help="iteration counts to try, rising")
    parser.add_argument("--search", choices=("frames", "ladder"), default="frames")
    parser.add_argument("--repeats", type=int, default=1)
    parser.add_argument("--steps", type=int, default=PEER_STEPS, help="pastiche's steps (the issue's: 60)")
    parser.add_argument("--precision", default="", help="neuralstyle's --precision (default: the CLI's default)")
    parser.add_argument("--tradeoff", action="store_true")
    parser.add_argument("--peer-weights", default=",".join(f"{w:g}" for w in PEER_WEIGHTS))
    parser.add_argument("--our-weights", default=",".join(f"{w:g}" for w in OUR_WEIGHTS))
    parser.add_argument("--snapshot", metavar="REV", help="run the neuralstyle package as committed at REV")
    parser.add_argument("--work", type=Path, help="keep outputs, frames and the children's log here")
    parser.add_argument("--json", type=Path, help="also write every measurement here")
    args = parser.parse_args()
    PEER_STEPS = args.steps
    pairs, sizes = args.pairs.split(","), [int(size) for size in args.sizes.split(",")]
    ladder = tuple(int(count) for count in args.ladder.split(","))

    started = time.perf_counter()
    with tempfile.TemporaryDirectory() as folder:
        work = args.work or Path(folder)
        work.mkdir(parents=True, exist_ok=True)
        snapshot = snapshot_of(args.snapshot, work) if args.snapshot else None
        if snapshot is not None:
            sys.path.insert(0, str(snapshot))  # the judge reads the same package
        bench = Bench(work, args.precision, snapshot, [])
        print(f"{cpu_flags()}; {platform.machine()}")
        print(f"{versions(bench)}")
        print(f"{git_state(args.snapshot)}; neuralstyle runs with "
              f"{f'--precision {args.precision}' if args.precision else 'its default precision'}; "
              f"command: benchmarks/quality.py {' '.join(sys.argv[1:])}\n", flush=True)
        log = lambda text: print(f"<!-- {text} -->", file=sys.stderr, flush=True)  # noqa: E731
        record = []
        if args.tradeoff:
            for pair in pairs:
                for size in sizes:
                    points = tradeoff(bench, pair, size, [float(w) for w in args.peer_weights.split(",")],
                                      [float(w) for w in args.our_weights.split(",")], progress=log)
                    print("\n".join(tradeoff_lines(pair, size, points)) + "\n", flush=True)
                    record.append({"pair": pair, "size": size,
                                   "points": {tool: [asdict(p) for p in runs] for tool, runs in points.items()}})
        else:
            results = []
            for size in sizes:
                for pair in pairs:
                    log(f"{pair} at {size} px")
                    results.append(time_to_quality(bench, pair, size, ladder, args.search, args.repeats, log))
                    record.append({**asdict(results[-1]), "time_ratio": results[-1].time_ratio,
                                   "equal_ratio": results[-1].equal_ratio})
            print("\n".join(quality_table(results, ladder) + ladder_lines(results)))
        print(f"\nJudge: benchmarks/judge.py (style distance: lower is better; content similarity: higher is "
              f"better). Measuring took {time.perf_counter() - started:.0f} s.")
        if args.json:
            args.json.write_text(json.dumps(record, indent=1))


if __name__ == "__main__":
    main()
