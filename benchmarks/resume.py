"""What resuming costs: L-BFGS-B's curvature history is not restored (SciPy keeps
it to itself), so a resumed run starts it afresh at its checkpoint.

    .venv/bin/python benchmarks/resume.py --size 256 --iterations 100 --stops 20,40,60

For each stop: a run interrupted there (in-process, as a signal would) and
resumed with `neuralstyle resume`, against the uninterrupted run: final loss
and wall time of the two parts. Reads ../shared/images (Tübingen × The Starry Night).
"""

from __future__ import annotations

import argparse
import json
import platform
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from run import CONTENT, NEURALSTYLE, STYLE  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", type=int, default=256)
    parser.add_argument("--iterations", type=int, default=100)
    parser.add_argument("--stops", default="20,40,60")
    args = parser.parse_args()
    from neuralstyle.core.backend import describe_device
    from neuralstyle.core.hardware import flags_line
    from neuralstyle.jobs import pipeline
    from neuralstyle.jobs.spec import RunSpec

    print(f"machine: {describe_device()}, {platform.machine()}, flags {flags_line()}; python "
          f"{platform.python_version()}; command: benchmarks/resume.py {' '.join(sys.argv[1:])}\n")
    print("| run | final loss | ÷ uninterrupted |")
    print("|---|---|---|")
    with tempfile.TemporaryDirectory() as folder:
        work = Path(folder)
        common = dict(mode="transfer", content=CONTENT, styles=[STYLE], size=args.size, iterations=args.iterations)
        whole = pipeline.run(RunSpec(**common, output=work / "whole.png", checkpoint_every=0)).record
        reference = whole["final_loss"]["total"]
        print(f"| {args.iterations} iterations uninterrupted | {reference:.4f} | 1 |", flush=True)
        for stop in map(int, args.stops.split(",")):
            out = work / f"stop{stop}.png"
            calls = []
            outcome = pipeline.execute(pipeline.prepare(RunSpec(**common, output=out)),
                                       lambda progress: "interrupted" if len(calls.append(0) or calls) > stop
                                       else None)
            pipeline.write(outcome)
            started = time.perf_counter()
            subprocess.run([*NEURALSTYLE, "resume", str(out.with_suffix(".json")), "-q"], check=True)
            record = json.loads(out.with_suffix(".json").read_text())
            final = record["final_loss"]["total"]
            print(f"| stopped at {stop}, resumed to {record['iterations']} ({time.perf_counter() - started:.0f} s "
                  f"for the resume) | {final:.4f} | {final / reference:.3f} |", flush=True)


if __name__ == "__main__":
    main()
