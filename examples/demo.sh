#!/usr/bin/env bash
# The README's first command: a real style transfer and its progress GIF, on the
# offline VGG19 weights. Content: neuralstyle/data/astronaut.jpg, NASA's photo of
# Eileen Collins (public domain, neuralstyle/data/SOURCES.md); style:
# neuralstyle/data/painting.png, made by examples/make_painting.py.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/bootstrap.sh
mkdir -p out
.venv/bin/neuralstyle transfer neuralstyle/data/astronaut.jpg neuralstyle/data/painting.png -o out/demo.png \
    --size "${SIZE:-256}" --iterations "${ITERATIONS:-100}" \
    --frames out/demo-frames --save-every 2 --gif out/demo.gif --overwrite
