#!/usr/bin/env bash
# Remake the pictures of the README and the docs from ../shared/images with the neuralstyle CLI
# (about an hour on a 2-core CPU). Each picture's run record (.json) is kept
# beside it, so `neuralstyle rerun` can repeat it. Pass names to make only some:
#   bash docs/make_gallery.sh transfer reconstructions
set -euo pipefail
cd "$(dirname "$0")/.."
images=../shared/images
ns=.venv/bin/neuralstyle
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
want() { [ -z "$only" ] || [[ " $only " == *" $1 "* ]]; }
only="$*"

if want transfer; then  # Gatys et al. Fig. 2 setting, with its progress GIF
  $ns transfer $images/tubingen.jpg $images/starry_night.jpg -o docs/tubingen_starry_night.jpg \
      --size 256 --iterations 100 --frames "$work/frames" --save-every 2 --overwrite
  # The run starts from the photo in the painting's colours, so the first frames are
  # near-copies of that start; the GIF starts at iteration 10, painted.
  rm "$work"/frames/frame_0000[0-8].png
  $ns gif "$work/frames" -o docs/tubingen_starry_night.gif --every 6 --size 160 --overwrite
fi
if want reconstructions; then  # Fig. 1
  # Content row from the package's own astronaut photo, not Tübingen: the shallow
  # layers rebuild their photo almost exactly, and no copy of a ../shared/images
  # input may be committed.
  photo=neuralstyle/data/astronaut.jpg
  $ns figure reconstructions "$photo" $images/starry_night.jpg -o docs/reconstructions.jpg \
      --size 256 --iterations 200 --overwrite
  rm -rf docs/reconstructions_tiles
fi
if want styles; then  # Fig. 2
  $ns figure styles $images/tubingen.jpg $images/starry_night.jpg $images/the_scream.jpg \
      $images/shipwreck.jpg $images/seated-nude.jpg -o docs/styles.jpg --size 256 --iterations 150 --hide-input --overwrite
  rm -rf docs/styles_tiles
fi
if want balance; then  # --content-weight, the knob: the default transfer at a quarter, half, 1 and 2 times its weight,
  # on two photos and two paintings far apart in their energy (balance 'raw' scales each alike)
  $ns sweep $images/tubingen.jpg $images/golden_gate.jpg --style $images/starry_night.jpg --style $images/seated-nude.jpg \
      --content-weight 1.4375 --content-weight 2.875 --content-weight 5.75 --content-weight 11.5 --columns content_weight \
      --size 256 -o "$work/balance"
  .venv/bin/python -c "from PIL import Image; Image.open('$work/balance/contact_sheet.png').convert('RGB').save('docs/balance.jpg', quality=88, optimize=True)"
  cp "$work/balance/sweep.json" docs/balance.json
fi
if want tradeoff; then  # Fig. 3
  $ns figure tradeoff $images/tubingen.jpg $images/starry_night.jpg -o docs/tradeoff.jpg \
      --size 256 --iterations 100 --ratios 1e-3,1e-2,1e-1,1 --overwrite
  rm -rf docs/tradeoff_tiles
fi
if want sweep; then  # the paper's Fig. 3 (CVPR 2016) as a sweep: Tübingen × four paintings × two style weights
  $ns sweep $images/tubingen.jpg --style $images/starry_night.jpg --style $images/the_scream.jpg \
      --style $images/shipwreck.jpg --style $images/seated-nude.jpg --style-weight 30 --style-weight 300 --size 256 \
      --iterations 80 -o "$work/sweep"
  .venv/bin/python -c "from PIL import Image; Image.open('$work/sweep/contact_sheet.png').convert('RGB').save('docs/sweep_tubingen.jpg', quality=88, optimize=True)"
  cp "$work/sweep/sweep.json" docs/sweep_tubingen.json
fi
if want color; then  # colour preservation, both modes
  for mode in luminance histogram; do
    $ns transfer $images/tubingen.jpg $images/starry_night.jpg -o docs/color_$mode.jpg \
        --size 256 --iterations 100 --preserve-color $mode --overwrite
  done
fi
if want blend; then  # two styles, 50:50
  $ns transfer $images/tubingen.jpg $images/starry_night.jpg $images/the_scream.jpg -o docs/blend.jpg \
      --size 256 --iterations 100 --style-blend 0.5,0.5 --overwrite
fi
if want curves; then  # the loss curves of the four 256 px runs above
  $ns plot docs/tubingen_starry_night.json docs/color_luminance.json docs/color_histogram.json docs/blend.json \
      -o docs/loss_curves.png --overwrite
fi
if want inspect; then
  $ns inspect $images/starry_night.jpg -o docs/inspect_starry_night.jpg --size 256 --hide-input --overwrite
fi
if want coarse_to_fine; then  # 1024 px, coarse-to-fine vs single scale at equal wall time (~22 min)
  .venv/bin/python benchmarks/coarse_to_fine.py --size 1024 --iterations 40,25 --content-weight 1.3 --save docs
fi
if want regions; then  # region masks (docs/regions.md): the package's astronaut, a style per region
  # The two masks (docs/regions_mask_*.png) were drawn by hand with PIL.ImageDraw and are committed.
  $ns transfer neuralstyle/data/astronaut.jpg $images/starry_night.jpg $images/the_scream.jpg \
      --style-mask docs/regions_mask_figure.png --style-mask docs/regions_mask_background.png \
      -o docs/regions_astronaut.jpg --size 384 --iterations 150 --overwrite
  .venv/bin/python - <<'PY'  # docs/regions.jpg: the photo, the regions over it, the result
import numpy as np
from PIL import Image, ImageDraw, ImageFont
side = 384
photo = Image.open("neuralstyle/data/astronaut.jpg").convert("RGB").resize((side, side), Image.Resampling.LANCZOS)
figure = np.asarray(Image.open("docs/regions_mask_figure.png").convert("L").resize((side, side)), np.float32)[..., None] / 255
blue, orange = np.array([40, 90, 255], np.float32), np.array([255, 140, 0], np.float32)
overlay = np.asarray(photo, np.float32) * 0.45 + 0.55 * (figure * blue + (1 - figure) * orange)
result = Image.open("docs/regions_astronaut.jpg").convert("RGB").resize((side, side), Image.Resampling.LANCZOS)
panels = [(photo, "the photo"), (Image.fromarray(overlay.clip(0, 255).astype(np.uint8)),
          "blue: The Starry Night, orange: The Scream"), (result, "the result (384 px, 150 iterations)")]
sheet = Image.new("RGB", (3 * side + 12, side + 26), "white")
draw, font = ImageDraw.Draw(sheet), ImageFont.load_default(size=16)
for index, (panel, caption) in enumerate(panels):
    sheet.paste(panel, (index * (side + 6), 0))
    draw.text((index * (side + 6) + side // 2, side + 13), caption, fill="black", font=font, anchor="mm")
sheet.save("docs/regions.jpg", quality=85, optimize=True)
PY
fi
# ../shared/images/SOURCES.md asks for committed pictures of at most ~200 KB:
# recompress any larger JPEG at the highest quality that fits.
.venv/bin/python - <<'PY'
import io, pathlib
from PIL import Image
for path in sorted(pathlib.Path("docs").glob("*.jpg")):
    if path.stat().st_size <= 210_000:  # the same bound as below, so a second run leaves it alone
        continue
    image = Image.open(path)
    for quality in range(90, 30, -5):
        buffer = io.BytesIO()
        image.save(buffer, "JPEG", quality=quality, optimize=True)
        if buffer.tell() <= 210_000:
            break
    path.write_bytes(buffer.getvalue())
    print(f"{path}: {buffer.tell() // 1000} KB at JPEG quality {quality}")
PY
