"""The HTML of the Posters page (ui/posters.py): the chosen photos, the recent-photo picker, the layout previews,
the price, the posters gallery and the export link. Every text comes from tr(request, key); every image of a
user's comes from our owner-checked /api/files route (the layout previews are inline JPEGs). Clickable things
carry data-pick; PICK_JS turns a click (or Enter) on one into the component's click event with {pick: value}."""
from __future__ import annotations

from core.schemas import file_url
from ui.common import esc
from ui.i18n import tr

API = "/api/apps/pose-generator/posters"
SHOWN_RECENT = 60

PICK_JS = """
const pick = (event) => {
  if (event.target.closest('a')) return;
  const el = event.target.closest('[data-pick]');
  if (el) { event.preventDefault(); trigger('click', {pick: el.dataset.pick}); }
};
element.addEventListener('click', pick);
element.addEventListener('keydown', (event) => { if (event.key === 'Enter' || event.key === ' ') pick(event); });
"""

CSS = """
.post-strip { display: flex; flex-wrap: wrap; gap: 10px; }
.post-chip { position: relative; margin: 0; width: 92px; border: 1px solid var(--border-color-primary);
  border-radius: 10px; overflow: hidden; background: var(--background-fill-secondary); cursor: pointer; }
.post-chip img { width: 100%; aspect-ratio: 3 / 4; object-fit: cover; display: block; }
.post-chip figcaption { font-size: 12px; padding: 2px 6px; text-align: center; }
.post-x { position: absolute; top: 4px; right: 4px; width: 22px; height: 22px; border-radius: 50%;
  background: rgba(0, 0, 0, .55); color: #fff; font-size: 12px; line-height: 22px; text-align: center; }
.post-chip:hover .post-x, .post-chip:focus-visible .post-x { background: #c62828; }
.post-grid { display: grid; grid-template-columns: repeat(auto-fill, minmax(92px, 1fr)); gap: 8px; }
.post-pick, .post-layout, .post-poster { position: relative; margin: 0; border: 2px solid var(--border-color-primary);
  border-radius: 12px; overflow: hidden; cursor: pointer; background: var(--background-fill-primary);
  transition: border-color .15s, box-shadow .15s; }
.post-pick:hover, .post-layout:hover, .post-poster:hover,
.post-pick:focus-visible, .post-layout:focus-visible, .post-poster:focus-visible { border-color: var(--color-accent); }
.post-pick.on, .post-layout.on, .post-poster.on { border-color: var(--color-accent);
  box-shadow: 0 0 0 3px rgba(249, 115, 22, .2); }
.post-pick img { width: 100%; aspect-ratio: 3 / 4; object-fit: cover; display: block; }
.post-pick figcaption { font-size: 11px; padding: 2px 6px; white-space: nowrap; overflow: hidden;
  text-overflow: ellipsis; }
.post-check { position: absolute; top: 6px; left: 6px; width: 22px; height: 22px; border-radius: 50%;
  background: var(--color-accent); color: #fff; font-size: 13px; font-weight: 700; line-height: 22px;
  text-align: center; display: none; }
.on > .post-check { display: block; }
.post-note { font-size: 12px; opacity: .75; margin: 0 0 6px; }
.post-layouts { display: grid; grid-template-columns: repeat(auto-fill, minmax(128px, 1fr)); gap: 8px; }
.post-shot { display: flex; align-items: center; justify-content: center; height: 140px; padding: 6px;
  background: var(--background-fill-secondary); }
.post-shot img { max-width: 100%; max-height: 100%; object-fit: contain; border-radius: 4px;
  box-shadow: 0 1px 4px rgba(0, 0, 0, .15); }
.post-layout:not(.on) .post-shot img { opacity: .5; filter: grayscale(.4); }
.post-layout figcaption, .post-poster figcaption { padding: 6px 8px; font-size: 12px; line-height: 1.35; }
.post-layout figcaption b { display: block; font-size: 13px; }
.post-posters { display: grid; grid-template-columns: repeat(auto-fill, minmax(190px, 1fr)); gap: 12px; }
.post-poster .post-shot { height: 210px; }
.post-poster figcaption { display: flex; flex-direction: column; gap: 1px; }
.post-poster figcaption a { font-size: 12px; align-self: flex-start; }
.post-new { position: absolute; top: 6px; right: 6px; background: #2e7d32; color: #fff; font-size: 11px;
  font-weight: 600; padding: 1px 8px; border-radius: 8px; }
.post-more { font-size: 12px; opacity: .75; margin-top: 8px; }
"""


def _count(request, key: str, n: int) -> str:
    return tr(request, f"{key}_one" if n == 1 else key, n=n)


def photo_entry(request, p) -> dict:
    """A finished photo (core.posters.service.Photo) as the page lists it."""
    product = p.product_name or tr(request, "posters.no_product")
    values = {"product": product, "batch": p.generation_id, "n": p.position + 1}
    return {"label": tr(request, "posters.photo_choice", id=p.id, **values),
            "title": tr(request, "posters.photo_title", **values), "thumb": file_url(p.thumbnail_path or p.image_path)}


def poster_entry(request, row) -> dict:
    fmt, layout = tr(request, f"posters.format.{row.format}"), tr(request, f"posters.layout.{row.layout}")
    return {"id": row.id, "format": row.format, "layout": row.layout, "width": row.width, "height": row.height,
            "format_name": fmt, "layout_name": layout, "thumb": file_url(row.thumbnail_path),
            "image": file_url(row.image_path), "label": tr(request, "posters.poster_choice", id=row.id, format=fmt,
                                                           layout=layout)}


def strip_html(request, chosen: list[str], catalog: dict) -> str:
    """The chosen photos, each with a ✕ that takes it out."""
    if not chosen:
        return f"<div class='apg-empty' id='post-photos-empty'>{esc(tr(request, 'posters.no_photos'))}</div>"
    remove = esc(tr(request, "posters.remove_photo"))
    chips = "".join(
        f"<figure class='post-chip' data-pick='{esc(k)}' data-result-id='{esc(k)}' role='button' tabindex='0' "
        f"title='{esc(catalog[k]['title'])} · {remove}'><img alt='{esc(catalog[k]['title'])}' "
        f"src='{esc(catalog[k]['thumb'])}'><span class='post-x' aria-label='{remove}'>✕</span>"
        f"<figcaption>#{esc(k)}</figcaption></figure>" for k in chosen if k in catalog)
    return f"<div class='post-strip' id='post-photos-list' data-count='{len(chosen)}'>{chips}</div>"


def recent_grid(request, chosen: list[str], catalog: dict) -> str:
    """The user's recent finished photos; the chosen ones are ticked."""
    if not catalog:
        return f"<div class='apg-empty' id='post-recent-empty'>{esc(tr(request, 'posters.no_finished'))}</div>"
    keys = list(catalog)[:SHOWN_RECENT]
    keys += [k for k in chosen if k in catalog and k not in keys]
    tiles = "".join(
        f"<figure class='post-pick{' on' if k in chosen else ''}' data-pick='{esc(k)}' data-result-id='{esc(k)}' "
        f"role='button' tabindex='0' aria-pressed='{'true' if k in chosen else 'false'}' "
        f"title='{esc(catalog[k]['title'])}'><img loading='lazy' alt='{esc(catalog[k]['title'])}' "
        f"src='{esc(catalog[k]['thumb'])}'><span class='post-check'>✓</span>"
        f"<figcaption>#{esc(k)} · {esc(catalog[k]['title'])}</figcaption></figure>" for k in keys)
    return f"<div class='post-grid' id='post-recent-grid'>{tiles}</div>"


def layout_cards(request, chosen: list[str] | None, cache: dict) -> str:
    """A card per layout: its preview, name and description; the chosen ones are ticked."""
    from core.posters import LAYOUTS

    chosen = chosen or []
    cards = []
    for key in LAYOUTS:
        on = key in chosen
        shot = (f"<img alt='{esc(tr(request, f'posters.layout.{key}'))}' src='{cache[key]}'>" if key in cache else "")
        cards.append(
            f"<figure class='post-layout{' on' if on else ''}' data-pick='{key}' data-layout='{key}' role='button' "
            f"tabindex='0' aria-pressed='{'true' if on else 'false'}'><div class='post-shot'>{shot}</div>"
            f"<span class='post-check'>✓</span><figcaption><b>{esc(tr(request, f'posters.layout.{key}'))}</b>"
            f"{esc(tr(request, f'posters.layout_desc.{key}'))}</figcaption></figure>")
    note = f"<div class='post-note' id='post-preview-note'>{esc(cache.get('note', ''))}</div>"
    return f"{note}<div class='post-layouts' id='post-layout-cards'>{''.join(cards)}</div>"


def cost_html(request, photos: int, formats: int, layouts: int, price: int, limit: int) -> str:
    """The price before anything is made: N photos x M formats x L layouts, 3 credits a poster, at most 60."""
    n = photos * formats * layouts
    if n == 0:
        return (f"<div class='apg-cost' id='post-cost-text' data-n='0'>"
                f"{esc(tr(request, 'posters.cost_pick'))}</div>")
    if n > limit:
        return (f"<div class='apg-cost apg-err' id='post-cost-text' data-n='{n}' role='alert'>⚠ "
                f"{esc(tr(request, 'posters.cost_over', n=n, limit=limit))}</div>")
    line = tr(request, "posters.cost_line", photos=_count(request, "posters.n_photos", photos),
              formats=_count(request, "posters.n_formats", formats),
              layouts=_count(request, "posters.n_layouts", layouts), n=n, each=price)
    return (f"<div class='apg-cost' id='post-cost-text' data-n='{n}' data-credits='{n * price}'>"
            f"<span class='apg-cost-total'>{esc(tr(request, 'posters.cost_total', credits=n * price))}</span>"
            f"<span class='apg-meta'>{esc(line)}. {esc(tr(request, 'posters.cost_note'))}</span></div>")


def gallery_html(request, entries: list[dict], selected: list[int], fresh: list[int], total: int | None) -> str:
    """The user's posters, newest first; selected ones ticked, the ones just made marked "new"."""
    if not entries:
        return f"<div class='apg-empty' id='post-gallery-empty'>{esc(tr(request, 'posters.none_yet'))}</div>"
    new, open_text = esc(tr(request, "posters.new")), esc(tr(request, "posters.open"))
    tiles = []
    for e in entries:
        on = e["id"] in selected
        tiles.append(
            f"<figure class='post-poster{' on' if on else ''}' data-pick='{e['id']}' data-poster-id='{e['id']}' "
            f"data-format='{esc(e['format'])}' data-layout='{esc(e['layout'])}' role='button' tabindex='0' "
            f"aria-pressed='{'true' if on else 'false'}'><div class='post-shot'><img loading='lazy' "
            f"alt='{esc(e['label'])}' src='{esc(e['thumb'])}'></div><span class='post-check'>✓</span>"
            + (f"<span class='post-new'>{new}</span>" if e["id"] in fresh else "")
            + f"<figcaption><b>#{e['id']} · {esc(e['format_name'])}</b><span class='apg-meta'>{e['width']}×"
            f"{e['height']} · {esc(e['layout_name'])}</span><a href='{esc(e['image'])}' target='_blank' "
            f"rel='noopener'>{open_text}</a></figcaption></figure>")
    more = (f"<div class='post-more'>{esc(tr(request, 'posters.showing', shown=len(entries), total=total))}</div>"
            if total and total > len(entries) else "")
    return (f"<div class='post-posters' id='post-gallery-grid' data-count='{len(entries)}'>{''.join(tiles)}</div>"
            f"{more}")


def export_html(request, ids: list[int]) -> str:
    """A link to the REST export of the selected posters (the browser's session cookie opens it)."""
    ids = sorted(set(ids))  # the ZIP numbers them in the order they were made
    if not ids:
        return f"<div class='apg-meta' id='post-export-none'>{esc(tr(request, 'posters.export_none'))}</div>"
    text = tr(request, "posters.export_one") if len(ids) == 1 else tr(request, "posters.export", n=len(ids))
    return (f"<div class='apg-links' id='post-export-links'><a class='apg-go' id='post-export-zip' "
            f"href='{API}/export?ids={','.join(map(str, ids))}' download>⬇ {esc(text)}</a>"
            f"<span class='apg-meta'>{esc(tr(request, 'posters.export_note'))}</span></div>")
