#!/usr/bin/env bash
# The package as a pip user gets it: build the wheel, install it into a new
# virtualenv outside the repository (no system site packages) from the package
# index, fetch the weights, run a transfer on the demo images that come in the
# wheel with the network cut, and check the environment.
set -euo pipefail
cd "$(dirname "$0")/.."
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
python=${PYTHON:-python3}
.venv/bin/python -m pip wheel --no-deps --quiet --wheel-dir "$work/dist" . 2>&1 | grep -v "^WARNING: Location" >&2 || true
wheel=$(ls "$work"/dist/neuralstyle_keras-*.whl)
echo "built $(basename "$wheel")" >&2
"$python" -m venv "$work/venv"
"$work/venv/bin/python" -m pip install --quiet --upgrade pip 2>&1 | grep -v "^WARNING: Location" >&2 || true
"$work/venv/bin/python" -m pip install --quiet "$wheel" 2>&1 | grep -v "^WARNING: Location" >&2 || true
export NEURALSTYLE_CACHE="$work/cache"
"$work/venv/bin/neuralstyle" weights fetch
# Both demo images come in the wheel (neuralstyle/data): a missing one is a packaging bug.
demo() {
    "$work/venv/bin/python" -c "import sys, neuralstyle.core.images as images; path = getattr(images, sys.argv[1])
sys.exit(f'{path.name} is not in the wheel (package-data in pyproject.toml)') if not path.is_file() else print(path)" "$1"
}
photo=$(demo DEMO_PHOTO)
painting=$(demo DEMO_PAINTING)
# The version is the installed metadata's, and scikit-image (a test tool) is not installed with the package.
"$work/venv/bin/python" -c "import importlib.util, neuralstyle, sys; from importlib.metadata import version
assert neuralstyle.__version__ == version('neuralstyle-keras'), (neuralstyle.__version__, version('neuralstyle-keras'))
sys.exit('the wheel installed scikit-image: it is in the test extra, not a dependency' if importlib.util.find_spec('skimage') else 0)"
offline=""
if unshare -n true 2>/dev/null; then offline="unshare -n"; else echo "warning: cannot cut the network here (unshare -n needs root)" >&2; fi
(cd "$work" && $offline "$work/venv/bin/neuralstyle" transfer "$photo" "$painting" -o "$work/out.png" \
    --size 48 --iterations 3 --preserve-color luminance -q)
test -s "$work/out.png" && test -s "$work/out.json"
"$work/venv/bin/python" -m pip check
# The gpu extra resolves to the one TensorFlow distribution with its CUDA libraries, never tensorflow-cpu beside it.
"$work/venv/bin/python" -m pip install --quiet --dry-run --ignore-installed --report "$work/gpu.json" "$wheel[gpu]" \
    2>&1 | grep -v "^WARNING: Location" >&2 || true
"$work/venv/bin/python" - "$work/gpu.json" <<'PYTHON'
import json, sys
names = {item["metadata"]["name"].lower() for item in json.load(open(sys.argv[1]))["install"]}
assert "tensorflow" in names and "tensorflow-cpu" not in names, sorted(name for name in names if "tensorflow" in name)
assert any(name.startswith("nvidia-cudnn") for name in names), "the gpu extra brought no CUDA libraries"
PYTHON
echo "wheel check passed: $(basename "$wheel") installed in a new virtualenv ($(du -sh "$work/venv" | cut -f1)), weights fetched, an offline transfer (colour kept, no scikit-image) written, pip check clean, the gpu extra resolves to one TensorFlow with CUDA"
