#!/usr/bin/env bash
# The README's second command: set up .venv (with the web app's extra and the
# browser its tests drive, where this system lets us install one), then run the
# whole test suite. Needs nothing beside the clone.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/bootstrap.sh
stamp=.venv/.neuralstyle-test-installed
want=$(cat pyproject.toml tests/run.sh | sha256sum | cut -d' ' -f1)
if [ ! -f "$stamp" ] || [ "$(cat "$stamp")" != "$want" ]; then
    echo "installing the test tools and the app, plot and video extras (Gradio, Selenium, matplotlib, OpenCV," \
         "imageio-ffmpeg) into .venv" >&2
    .venv/bin/python -m pip install --quiet -e ".[test,app,plot,video]" selenium
    echo "$want" > "$stamp"
fi
# The web app's tests drive a real headless Chromium; its driver comes from the system packages.
if ! command -v chromedriver >/dev/null || ! { command -v chromium >/dev/null || command -v chromium-browser >/dev/null; }; then
    sudo=""; [ "$(id -u)" = 0 ] || sudo="sudo -n"
    if command -v apt-get >/dev/null && $sudo true 2>/dev/null; then
        echo "installing chromium and chromium-driver for the web app's browser tests" >&2
        $sudo apt-get update -qq && $sudo apt-get install -y -qq chromium chromium-driver >/dev/null \
            || echo "warning: could not install chromium: the browser tests will be SKIPPED" >&2
    else
        echo "warning: no chromium/chromedriver and no way to install them here: the browser tests will be SKIPPED" \
             "(apt-get install chromium chromium-driver)" >&2
    fi
fi
exec .venv/bin/python -m pytest -q "$@"
