#!/usr/bin/env bash
# The package as a pip user gets it: build the wheel, install it into a new
# virtualenv outside the repository (no system site packages) from the package
# index, fetch the weights, run a transfer on images that come with the package
# and its dependencies with the network cut, and check the environment.
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
photo=$("$work/venv/bin/python" -c "import pathlib, skimage.data; print(pathlib.Path(skimage.data.__file__).with_name('astronaut.png'))")
painting=$("$work/venv/bin/python" -c "from neuralstyle.core.images import DEMO_PAINTING; print(DEMO_PAINTING)")
offline=""
if unshare -n true 2>/dev/null; then offline="unshare -n"; else echo "warning: cannot cut the network here (unshare -n needs root)" >&2; fi
(cd "$work" && $offline "$work/venv/bin/neuralstyle" transfer "$photo" "$painting" -o "$work/out.png" \
    --size 48 --iterations 3 -q)
test -s "$work/out.png" && test -s "$work/out.json"
"$work/venv/bin/python" -m pip check
echo "wheel check passed: $(basename "$wheel") installed in a new virtualenv ($(du -sh "$work/venv" | cut -f1)), weights fetched, an offline transfer written, pip check clean"
