"""A sweep's ``index.html``: one self-contained page with every cell's image,
the settings that make it differ, its losses, how it ended and links to its
image and run record (relative, so the folder can be moved or served as is)."""

from __future__ import annotations

import html
import json
from collections.abc import Mapping, Sequence
from urllib.parse import quote

STYLE = """body{font-family:system-ui,sans-serif;margin:1.5em;color:#222}
table{border-collapse:collapse}td,th{border:1px solid #ccc;padding:.4em;vertical-align:top;text-align:left}
img{max-width:192px;max-height:192px}.failed{background:#fde8e8}.skipped{color:#555}
details pre{font-size:.8em;max-width:40em;white-space:pre-wrap}"""


def page(title: str, settings: Sequence[str], cells: Sequence[Mapping], shared: Mapping) -> str:
    """The page: `settings` are the varying settings (one column each), `cells`
    mappings with name, labels (setting → value), status (done, skipped, failed
    or not run), error, image and record (file names beside the page or None),
    final_loss, iterations, seconds, worker (where it ran) and arguments (the
    cell's full settings);
    `shared` the settings every cell has."""
    escape = html.escape
    head = "".join(f"<th>{escape(setting.replace('_', ' '))}</th>" for setting in settings)
    rows = []
    for cell in cells:
        image = (f'<a href="{quote(cell["image"])}"><img src="{quote(cell["image"])}" alt="{escape(cell["name"])}"></a>'
                 if cell.get("image") else "")
        record = f'<a href="{quote(cell["record"])}">{escape(cell["record"])}</a>' if cell.get("record") else ""
        loss = cell.get("final_loss") or {}
        losses = "<br>".join(f"{part} {loss[part]:.4g}" for part in ("total", "content", "style", "tv")
                             if isinstance(loss.get(part), (int, float)))
        status = escape(cell["status"]) + (f": {escape(cell['error'])}" if cell.get("error") else "")
        details = json.dumps(cell.get("arguments") or {}, indent=1)
        labels = "".join(f"<td>{escape(str(cell['labels'].get(setting, '')))}</td>" for setting in settings)
        rows.append(
            f'<tr class="{escape(cell["status"])}"><td>{image}</td>{labels}<td>{losses}</td>'
            f"<td>{cell.get('iterations') or ''}</td><td>{status}"
            f"{'<br>' + format(cell['seconds'], '.1f') + ' s' if cell.get('seconds') else ''}"
            f"{'<br>' + escape(cell['worker']) if cell.get('worker') else ''}</td>"
            f"<td>{record}<details><summary>settings</summary><pre>{escape(details)}</pre></details></td></tr>")
    shared_rows = "".join(f"<tr><th>{escape(key)}</th><td>{escape(json.dumps(value))}</td></tr>"
                          for key, value in shared.items())
    return (f"<!doctype html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>{escape(title)}</title>"
            f"<style>{STYLE}</style></head><body>\n<h1>{escape(title)}</h1>\n"
            f'<p><a href="contact_sheet.png"><img src="contact_sheet.png" alt="contact sheet" '
            f'style="max-width:100%;max-height:none"></a></p>\n'
            f"<table><tr><th>image</th>{head}<th>loss</th><th>iterations</th><th>status</th><th>record</th></tr>\n"
            + "\n".join(rows) + "\n</table>\n<h2>Settings of every cell</h2>\n<table>"
            + shared_rows + "</table>\n</body></html>\n")
