#!/usr/bin/env bash
# Remake the README's pictures from ../shared/images with the neuralstyle CLI.
# Each picture's record (.json) is kept beside it, so `neuralstyle rerun` can repeat it.
set -euo pipefail
cd "$(dirname "$0")/.."
images=../shared/images
ns=.venv/bin/neuralstyle
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

# Gatys et al. Fig. 2 setting: Tübingen × The Starry Night, 256 px, 100 iterations, with its progress GIF.
$ns transfer $images/tubingen.jpg $images/starry_night.jpg -o docs/tubingen_starry_night.jpg \
    --size 256 --iterations 100 --frames "$work/frames" --save-every 2 --overwrite
$ns gif "$work/frames" -o docs/tubingen_starry_night.gif --every 2 --size 200 --overwrite
