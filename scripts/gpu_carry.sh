#!/usr/bin/env bash
# Prepares .whl/, the folder carried to a bare GPU machine for benchmarks/gpu.py.
#
# The GPU machine has Python 3.12, PyTorch (CUDA), JAX (CUDA), SciPy, NumPy,
# Pillow, Typer, Rich, absl-py, h5py, ml-dtypes, packaging, requests and
# scikit-image, but no TensorFlow, no Keras and no network. This script puts in
# .whl/ what neuralstyle needs beyond that on the jax and torch paths:
#   * the wheels of Keras (the version in .venv), namex and optree (Keras's own
#     dependencies the machine lacks), threadpoolctl (neuralstyle.core.lbfgsb)
#     and platformdirs (neuralstyle.core.weights.cache_dir, when NEURALSTYLE_CACHE
#     is unset), for CPython 3.12 on manylinux x86_64;
#   * the 8-bit VGG19 weights file, which `weights="auto"` finds there when
#     NEURALSTYLE_CACHE=$PWD/.whl;
#   * ../shared/images/tubingen.jpg and starry_night.jpg, where present, in
#     .whl/images (the pair the CPU benchmarks use).
# It prints the total size and fails if it is over 60 MiB (the carry limit is 64).
#
#     bash scripts/gpu_carry.sh            # from anywhere; works at the repository root
#
# .whl/ is kept out of git (.gitignore has /.whl/; this adds it to
# .git/info/exclude as well if missing). Then, on the GPU machine, the one call is
# in benchmarks/gpu.py's docstring.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
PYTHON="${PYTHON:-$ROOT/.venv/bin/python}"
CARRY=.whl
LIMIT_MIB=60
# What the GPU machine has already (distribution names, normalised: lower case, '-').
PRESENT="numpy scipy pillow typer rich absl-py h5py ml-dtypes packaging requests scikit-image torch jax jaxlib
typing-extensions"

exclude="$(git rev-parse --git-path info/exclude)"
mkdir -p "$(dirname "$exclude")"
touch "$exclude"
grep -qxF '/.whl/' "$exclude" || echo '/.whl/' >> "$exclude"

# Found before .whl/ is emptied (NEURALSTYLE_CACHE may point there); kept aside meanwhile.
weights="$("$PYTHON" -c 'from neuralstyle.core.weights import find_q8_file; print(find_q8_file() or "")' 2>/dev/null)"
if [ -z "$weights" ]; then
    echo "gpu_carry.sh: no 8-bit VGG19 weights here; run '.venv/bin/neuralstyle weights fetch' first" >&2
    exit 1
fi
aside="$(mktemp -d)"
trap 'rm -rf "$aside"' EXIT
cp "$weights" "$aside/"

keras_version="$("$PYTHON" -c 'import importlib.metadata as m; print(m.version("keras"))')"
rm -rf "$CARRY"
mkdir -p "$CARRY"
python3 -m pip download --quiet --no-deps --only-binary=:all: --python-version 3.12 --implementation cp \
    --platform manylinux_2_28_x86_64 --platform manylinux_2_27_x86_64 --platform manylinux_2_17_x86_64 \
    --platform manylinux2014_x86_64 -d "$CARRY" \
    "keras==$keras_version" namex optree platformdirs threadpoolctl 2> >(grep -v 'is ignored' >&2)

# Every unconditional requirement of the carried wheels must be carried or on the machine already.
carried=""
for wheel in "$CARRY"/*.whl; do
    name="$(basename "$wheel" | cut -d- -f1 | tr 'A-Z_.' 'a-z--')"
    carried="$carried $name"
done
missing=""
for wheel in "$CARRY"/*.whl; do
    while read -r requirement; do
        name="$(echo "$requirement" | sed -E 's/^Requires-Dist: *([A-Za-z0-9_.-]+).*/\1/' | tr 'A-Z_.' 'a-z--')"
        case " $carried $(echo $PRESENT) " in
            *" $name "*) ;;
            *) missing="$missing $name($(basename "$wheel"))" ;;
        esac
    done < <(unzip -p "$wheel" '*.dist-info/METADATA' | grep '^Requires-Dist' | grep -v 'extra ==' || true)
done
if [ -n "$missing" ]; then
    echo "gpu_carry.sh: requirements neither carried nor on the GPU machine:$missing" >&2
    exit 1
fi

cp "$aside"/* "$CARRY/"
# The benchmark's usual pair of images, where this clone has them beside it (benchmarks/gpu.py --images .whl/images).
if [ -f ../shared/images/tubingen.jpg ] && [ -f ../shared/images/starry_night.jpg ]; then
    mkdir -p "$CARRY/images"
    cp ../shared/images/tubingen.jpg ../shared/images/starry_night.jpg "$CARRY/images/"
    chmod u+w "$CARRY"/images/*
fi

ls -lR "$CARRY"
bytes="$(du -sb "$CARRY" | cut -f1)"
echo "carry: $CARRY/ $(awk -v b="$bytes" 'BEGIN { printf "%.1f MiB (%d bytes)", b / 1048576, b }'), limit $LIMIT_MIB MiB"
if [ "$bytes" -gt $((LIMIT_MIB * 1048576)) ]; then
    echo "gpu_carry.sh: $CARRY/ is over $LIMIT_MIB MiB" >&2
    exit 1
fi
