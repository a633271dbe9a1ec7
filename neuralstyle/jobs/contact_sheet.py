"""A sweep's grid as one labelled picture: columns are the values of one
setting, rows the combinations of the others, each named in words on the left
and at the top. Takes images (arrays or PIL) and returns a PIL image."""

from __future__ import annotations

import textwrap
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
from PIL import Image, ImageDraw, ImageFont

BACKGROUND, INK, FAINT = (255, 255, 255), (20, 20, 20), (225, 225, 225)
MAX_SIDE = 8000  # px: a huge grid gets smaller tiles rather than a picture no viewer opens


@dataclass(frozen=True)
class Layout:
    """Where each cell goes: `columns` and `rows` are their labels (a row's label
    may have several lines), `place[i]` the (row, column) of cell i, and
    `column_title` names the setting across the top."""

    columns: tuple[str, ...]
    rows: tuple[str, ...]
    place: Mapping[int, tuple[int, int]]
    column_title: str


def setting_words(setting: str) -> str:
    """A setting as a label says it: 'style_weight' → 'style weight'; content and styles say nothing (their file
    names speak)."""
    return "" if setting in ("content", "styles") else setting.replace("_", " ")


def value_label(setting: str, value: str) -> str:
    words = setting_words(setting)
    return f"{words} {value}" if words else value


def arrange(cell_labels: Sequence[Mapping[str, str]], columns: str | None, rows: Sequence[str]) -> Layout:
    """The layout of cells whose labels (setting → value label) are `cell_labels`:
    one column per value of `columns` (None: one column), one row per
    combination of the `rows` settings, both in the order the cells first show them."""
    column_values = list(dict.fromkeys(labels[columns] for labels in cell_labels)) if columns else [""]
    row_keys = list(dict.fromkeys(tuple(labels[setting] for setting in rows) for labels in cell_labels))
    place = {}
    for index, labels in enumerate(cell_labels):
        row = row_keys.index(tuple(labels[setting] for setting in rows))
        place[index] = (row, column_values.index(labels[columns]) if columns else 0)
    row_labels = tuple("\n".join(value_label(setting, value) for setting, value in zip(rows, key)) for key in row_keys)
    title = {"content": "content", "styles": "style"}.get(columns, setting_words(columns)) if columns else ""
    return Layout(tuple(column_values), row_labels, place, title)


def font(size: int) -> ImageFont.ImageFont:
    """Pillow's own scalable font (no font file needed) at `size` px."""
    return ImageFont.load_default(size=size)


def draw(layout: Layout, images: Mapping[int, np.ndarray | Image.Image], notes: Mapping[int, str] | None = None,
         tile: int = 256) -> Image.Image:
    """The contact sheet: each cell's image fitted into a box at its place (a
    cell with no image shows its note, e.g. why it failed), row labels on the
    left, column labels on top. The box takes the images' own proportions, its
    longest side that of the largest image, at most `tile` px, smaller still if
    the sheet would pass `MAX_SIDE` on either side."""
    notes = notes or {}
    pictures = {index: (image if isinstance(image, Image.Image) else Image.fromarray(np.asarray(image)[..., :3]))
                .convert("RGB") for index, image in images.items()}
    for picture in pictures.values():
        picture.thumbnail((tile, tile), Image.Resampling.LANCZOS)
    box_width = max((picture.width for picture in pictures.values()), default=tile // 2)
    box_height = max((picture.height for picture in pictures.values()), default=tile // 2)
    count_rows, count_columns = len(layout.rows), len(layout.columns)
    text_size = max(11, min(18, max(box_width, box_height) // 12))
    label_font, pad = font(text_size), max(4, text_size // 2)
    measure = ImageDraw.Draw(Image.new("RGB", (1, 1)))
    left = max([0] + [int(measure.multiline_textbbox((0, 0), label, font=label_font)[2])
                      for label in layout.rows if label]) + (2 * pad if any(layout.rows) else 0)
    shrink = min(1.0, (MAX_SIDE - left) / max(1, count_columns) / box_width, MAX_SIDE / max(1, count_rows) / box_height)
    box_width, box_height = max(16, int(box_width * shrink)), max(16, int(box_height * shrink))
    characters = max(8, box_width // (text_size // 2 + 1))  # what a column's width holds
    line = text_size + pad
    columns_wrapped = [textwrap.fill(label, characters) for label in layout.columns]
    top = (line if layout.column_title else 0) + max(line * (label.count("\n") + 1) if label else 0
                                                    for label in columns_wrapped) + pad
    gap = 2
    width = left + count_columns * (box_width + gap)
    height = top + count_rows * (box_height + gap)
    sheet = Image.new("RGB", (width, height), BACKGROUND)
    canvas = ImageDraw.Draw(sheet)
    if layout.column_title:
        canvas.text((left + (width - left) // 2, pad // 2), layout.column_title, font=label_font, fill=INK, anchor="ma")
    for column, label in enumerate(columns_wrapped):
        x = left + column * (box_width + gap) + box_width // 2
        canvas.multiline_text((x, top - pad), label, font=label_font, fill=INK, anchor="md", align="center")
    for row, label in enumerate(layout.rows):
        y = top + row * (box_height + gap) + box_height // 2
        canvas.multiline_text((pad, y), label, font=label_font, fill=INK, anchor="lm")
    for index, (row, column) in layout.place.items():
        x, y = left + column * (box_width + gap), top + row * (box_height + gap)
        picture = pictures.get(index)
        if picture is None:
            canvas.rectangle((x, y, x + box_width - 1, y + box_height - 1), fill=FAINT)
            note = textwrap.fill(notes.get(index, "not run"), characters)
            canvas.multiline_text((x + box_width // 2, y + box_height // 2), note, font=font(max(10, text_size - 2)),
                                  fill=INK, anchor="mm", align="center")
            continue
        picture.thumbnail((box_width, box_height), Image.Resampling.LANCZOS)
        sheet.paste(picture, (x + (box_width - picture.width) // 2, y + (box_height - picture.height) // 2))
    return sheet
