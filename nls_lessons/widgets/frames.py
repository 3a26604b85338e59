"""Static fallbacks for the explorers: precomputed frames with a plain-HTML slider.

Used by every lesson's explorer when the book or the slides are built (``NLS_STATIC=1``), so
no page shows an empty widget area. The HTML contract (the book and slides rely on it)::

    <div class="nls-frames" data-params="eps r">
      <div class="nls-frames-controls">
        <label>… <input type="range" class="nls-frames-slider" data-param="r" min="0" max="N-1"
                   step="1" value="i0" aria-label="…" data-labels='["−2", "0", …]'>
          <output class="nls-frames-value" data-param="r">0.4</output></label>
      </div>
      <img class="nls-frame" data-key="3" src="data:image/png;base64,…" alt="…">        (visible)
      <img class="nls-frame" data-key="4" src="…" alt="…" hidden>                       (others)
    </div>

Keys are slider indices: ``"i"`` for one parameter, ``"i,j"`` for two (in ``data-params``
order, space separated). The initial frame is visible without JavaScript; ``frames.js``
(:data:`FRAMES_JS`, plain JS, no dependencies; the file is ``nls_lessons/widgets/frames.js``,
shipped with the book's and the slides' assets) swaps frames when a slider moves.
"""
from __future__ import annotations

import base64
import html
import itertools
import json
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path

FRAMES_JS = Path(__file__).resolve().with_name("frames.js")


def frames_js() -> str:
    """The source of ``widgets/frames.js`` (binds every ``.nls-frames``; ``window.nlsFramesInit(root)``)."""
    return FRAMES_JS.read_text(encoding="utf-8")


def _png_bytes(frame, dpi) -> bytes:
    if isinstance(frame, (bytes, bytearray)):
        return bytes(frame)
    from nls_lessons import plots

    try:
        return plots.to_png(frame, dpi=dpi)
    finally:
        plots.close(frame)


def _label(value) -> str:
    if isinstance(value, float):
        from nls_lessons.plots import fmt_rate

        return fmt_rate(value)
    return str(value)


def frames_html(frames, params: Mapping[str, Sequence], *, initial: Mapping[str, int] | None = None,
                alt: Callable[..., str] | Mapping | str | None = None, labels: Mapping[str, str] | None = None,
                title: str | None = None, dpi: float | None = 72, include_script: bool = True,
                max_width: str = "100%") -> str:
    """A self-contained HTML block: one PNG per parameter combination and a range slider per parameter.

    Args:
        frames: either a callable ``frames(**values) -> Figure | PNG bytes`` called for every
            combination, or a mapping from an index tuple ``(i,)`` / ``(i, j)`` (or its key string
            ``"i"`` / ``"i,j"``) to a Figure or PNG bytes. Figures are rendered and closed.
        params: ordered ``{name: values}``, one slider per name (1 or 2 parameters).
        initial: ``{name: index}`` of the frame shown first (default: the middle of each list).
        alt: alt text per frame: a callable ``alt(**values) -> str``, a mapping key -> text, or a
            format string (``"r = {r}"``). Default: the parameter values, spelled out.
        labels: human names of the parameters for the slider labels (default: the names).
        title: optional caption above the sliders.
        dpi: resolution of rendered figures (72 keeps a 3-panel page near 40 kB per frame).
        include_script: inline ``frames.js`` (idempotent, so a page that also loads the file is fine).

    Returns:
        The HTML string. Lessons 01-04 (static explorers in the book and the slides).
    """
    if not params or len(params) > 2:
        raise ValueError(f"params must name 1 or 2 sliders, got {list(params)}")
    names = list(params)
    values = {n: list(v) for n, v in params.items()}
    for n, v in values.items():
        if not v:
            raise ValueError(f"parameter {n!r} has no values")
        if not n.isidentifier():
            raise ValueError(f"parameter names must be identifiers, got {n!r}")
    labels = dict(labels or {})
    start = {n: len(values[n]) // 2 for n in names}
    for n, i in (initial or {}).items():
        if n not in values or not 0 <= int(i) < len(values[n]):
            raise ValueError(f"initial index {n}={i} is outside the values of {names}")
        start[n] = int(i)

    def alt_text(idx) -> str:
        kv = {n: values[n][i] for n, i in zip(names, idx)}
        if callable(alt):
            return alt(**kv)
        if isinstance(alt, Mapping):
            return alt.get(idx, alt.get(",".join(map(str, idx)), ""))
        if isinstance(alt, str):
            return alt.format(**kv)
        return "Figure for " + ", ".join(f"{labels.get(n, n)} = {_label(v)}" for n, v in kv.items())

    parts = []
    root_attrs = f'class="nls-frames" data-params="{" ".join(names)}"'
    parts.append(f'<div {root_attrs} style="max-width:{max_width};">')
    if title:
        parts.append(f'<p class="nls-frames-title"><strong>{html.escape(title)}</strong></p>')
    parts.append('<div class="nls-frames-controls" style="display:flex;flex-wrap:wrap;gap:0.4em 2em;'
                 'align-items:center;margin:0.3em 0;">')
    for n in names:
        texts = [_label(v) for v in values[n]]
        human = labels.get(n, n)
        parts.append(
            f'<label style="display:inline-flex;gap:0.5em;align-items:center;">{html.escape(human)}'
            f' <input type="range" class="nls-frames-slider" data-param="{n}" min="0" max="{len(texts) - 1}"'
            f' step="1" value="{start[n]}" aria-label="{html.escape(human, quote=True)}"'
            f" data-labels='{html.escape(json.dumps(texts, ensure_ascii=False), quote=True)}'>"
            f' <output class="nls-frames-value" data-param="{n}">{html.escape(texts[start[n]])}</output></label>')
    parts.append("</div>")
    parts.append('<noscript><p class="nls-frames-note"><em>The slider needs JavaScript; showing '
                 + html.escape(", ".join(f"{labels.get(n, n)} = {_label(values[n][start[n]])}" for n in names))
                 + ".</em></p></noscript>")
    first = tuple(start[n] for n in names)
    for idx in itertools.product(*(range(len(values[n])) for n in names)):
        key = ",".join(map(str, idx))
        if callable(frames):
            frame = frames(**{n: values[n][i] for n, i in zip(names, idx)})
        else:
            candidates = [idx, key] + ([idx[0]] if len(idx) == 1 else [])
            frame = next((frames[c] for c in candidates if c in frames), None)
            if frame is None:
                raise KeyError(f"no frame for key {key!r} (frames must cover every combination)")
        data = base64.b64encode(_png_bytes(frame, dpi)).decode("ascii")
        hidden = "" if idx == first else " hidden"
        parts.append(f'<img class="nls-frame" data-key="{key}" src="data:image/png;base64,{data}"'
                     f' alt="{html.escape(alt_text(idx), quote=True)}" style="max-width:100%;height:auto;"{hidden}>')
    parts.append("</div>")
    if include_script:
        parts.append(f"<script>{frames_js()}</script>")
    return "\n".join(parts)
