"""A folder of pairs the defaults were not tuned on, for `tradeoff.py --images DIR`.

    .venv/bin/python benchmarks/unseen_images.py /tmp/unseen-images
    .venv/bin/python benchmarks/tradeoff.py --work /tmp/unseen --images /tmp/unseen-images --sizes 256 \
        --pairs astronaut:the_scream,coffee:starry_night,chelsea:seated-nude,rocket:shipwreck,rocket:project_painting

The defaults were chosen on the photographs of ../shared/images (Tübingen, the
Golden Gate). This writes four other photographs, the ones scikit-image ships
(astronaut, coffee, chelsea, rocket: no download), and the project's own
painting (neuralstyle/data/painting.png, as ``project_painting``) as JPEGs
(quality 95) into DIR, beside copies of the paintings of ../shared/images, so
that every photo:painting name resolves there. Nothing goes into the repository.
"""

from __future__ import annotations

import argparse
import shutil
from pathlib import Path

from PIL import Image

ROOT = Path(__file__).resolve().parents[1]
SHARED = ROOT.parent / "shared" / "images"
PHOTOS = ("astronaut", "coffee", "chelsea", "rocket")  # skimage.data's, bundled with scikit-image
QUALITY = 95


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("folder", type=Path, help="where the JPEGs go (created)")
    arguments = parser.parse_args()
    import skimage.data

    arguments.folder.mkdir(parents=True, exist_ok=True)
    for name in PHOTOS:
        Image.fromarray(getattr(skimage.data, name)()).convert("RGB").save(arguments.folder / f"{name}.jpg",
                                                                          quality=QUALITY)
    Image.open(ROOT / "neuralstyle" / "data" / "painting.png").convert("RGB").save(
        arguments.folder / "project_painting.jpg", quality=QUALITY)
    for painting in sorted(SHARED.glob("*.jpg")) if SHARED.is_dir() else []:
        shutil.copyfile(painting, arguments.folder / painting.name)
    print(f"wrote {', '.join(sorted(path.stem for path in arguments.folder.glob('*.jpg')))} to {arguments.folder}")


if __name__ == "__main__":
    main()
