"""Every plotted point inside its axes (issue 24, item 2): a figure that silently drops data
(a best rate of −64 on an axis that stops at −16) fails here.

``points_outside(fig)`` lists, per axes, the data points of its lines (``Line2D``: plots, error
bar caps, markers) and collections (scatter offsets, error bar segments, ``fill_between``
bands) that lie outside ``ax.get_xlim()`` / ``ax.get_ylim()``. Limits are compared on the axis'
own scale (linear, log, asinh, symlog: the scale's transform), with a tolerance of 0.1 % of the
visible span, so a point drawn on the edge counts as inside. Artists not in data coordinates
(``axhline``/``axvline``, whose other coordinate is in axes units; legends; images) are skipped,
as are NaN and infinite points (matplotlib never draws them).
"""
from __future__ import annotations

import numpy as np
from matplotlib.collections import Collection
from matplotlib.lines import Line2D


def _data_points(artist, ax) -> np.ndarray | None:
    """(n, 2) data coordinates of ``artist`` or None when it is not drawn in data coordinates."""
    if not artist.get_visible():
        return None
    if isinstance(artist, Line2D):
        if artist.get_transform() != ax.transData:
            return None
        return np.asarray(artist.get_xydata(), dtype=float).reshape(-1, 2)
    if isinstance(artist, Collection):
        points = []
        offsets = np.asarray(artist.get_offsets(), dtype=float).reshape(-1, 2)
        if len(offsets) and artist.get_offset_transform() == ax.transData:
            points.append(offsets)
        if artist.get_transform() == ax.transData:          # paths in data units (bands, segments)
            points += [np.asarray(p.vertices, dtype=float).reshape(-1, 2) for p in artist.get_paths()]
        return np.concatenate(points) if points else None
    return None


def _inside(values: np.ndarray, lim, t) -> np.ndarray:
    """Which ``values`` lie within ``lim``, compared after the axis' scale transform ``t``."""
    lo, hi = sorted(lim)
    with np.errstate(all="ignore"):
        v, (a, b) = t.transform(values), t.transform(np.array([lo, hi]))
    tol = 1e-3 * abs(b - a)
    return ~np.isfinite(v) | ((v >= a - tol) & (v <= b + tol))


def points_outside(fig) -> list[str]:
    """One line per artist with data outside its axes: which axes, which artist, how many points
    and the most extreme one, and the limits."""
    problems = []
    for ax in fig.axes:
        if not ax.get_visible() or ax.get_label() == "<colorbar>":
            continue
        for artist in [*ax.lines, *ax.collections]:
            pts = _data_points(artist, ax)
            if pts is None or not len(pts):
                continue
            pts = pts[np.isfinite(pts).all(axis=1)]
            ok = _inside(pts[:, 0], ax.get_xlim(), ax.xaxis.get_transform()) & \
                _inside(pts[:, 1], ax.get_ylim(), ax.yaxis.get_transform())
            if not ok.all():
                bad = pts[~ok]
                problems.append(f"axes {ax.get_title()!r}: {type(artist).__name__} {artist.get_label()!r} has "
                                f"{len(bad)} point(s) outside x {tuple(round(v, 3) for v in ax.get_xlim())}, "
                                f"y {tuple(round(v, 3) for v in ax.get_ylim())}, e.g. {tuple(bad[0].round(3))}")
    return problems
