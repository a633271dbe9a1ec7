#!/usr/bin/env bash
# The README's first command: a real style transfer and its progress GIF, on the
# offline VGG19 weights. Content: scikit-image's astronaut photo (it ships in the
# wheel); style: neuralstyle/data/painting.png, made by examples/make_painting.py.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/bootstrap.sh
photo=$(.venv/bin/python -c "import pathlib, skimage.data; print(pathlib.Path(skimage.data.__file__).with_name('astronaut.png'))")
mkdir -p out
.venv/bin/neuralstyle transfer "$photo" neuralstyle/data/painting.png -o out/demo.png \
    --size "${SIZE:-256}" --iterations "${ITERATIONS:-100}" \
    --frames out/demo-frames --save-every 2 --gif out/demo.gif --overwrite
