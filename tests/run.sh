#!/usr/bin/env bash
# The README's second command: set up .venv if needed, then run the test suite.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/bootstrap.sh
images=${NEURALSTYLE_TEST_IMAGES:-../shared/images}
if [ ! -f "$images/tubingen.jpg" ]; then
  echo "warning: no test images in $images: the tests on real images will be SKIPPED" \
       "(set NEURALSTYLE_TEST_IMAGES=DIR to the folder with tubingen.jpg)" >&2
fi
exec .venv/bin/python -m pytest -q "$@"
