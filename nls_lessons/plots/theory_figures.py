"""Lesson 04: the theory's picture. The phase diagram of the optimal smooth rate
r_opt(ε, r*) (the paper's Fig. 2), computed by :func:`nls_lessons.theory.phase_diagram`.
"""
from __future__ import annotations

import numpy as np
from matplotlib.colors import TwoSlopeNorm
from matplotlib.figure import Figure

from .style import DIVERGING_CMAP, _fig_ax, _minus, _styled, fmt_rate


@_styled
def phase_diagram(num_classes: int = 2, *, ax=None, r_min: float = -4.0, n: int = 201) -> Figure:
    """The paper's Fig. 2: r_opt(ε, r*) = (r* − κ)/(1 − κ), κ = Kε/(K − 1), with its zero contour.

    Lesson 04. Above the contour (ε < (K − 1)r*/K) the optimal rate is positive: use LS;
    below it, negative: use NLS. Colours are clipped at ``r_min``.
    """
    from nls_lessons import theory

    k = int(num_classes)
    eps = np.linspace(0.0, (k - 1) / k * 0.98, n)      # kappa < 1
    r_star = np.linspace(0.0, 1.0, n)
    Z = theory.phase_diagram(eps, r_star, k)            # (R, E)
    E, R = np.meshgrid(eps, r_star)
    fig, ax = _fig_ax(ax, (6.0, 4.6))
    norm = TwoSlopeNorm(vmin=r_min, vcenter=0.0, vmax=1.0)
    im = ax.pcolormesh(E, R, np.clip(Z, r_min, 1.0), cmap=DIVERGING_CMAP, norm=norm, shading="auto")
    cs = ax.contour(E, R, Z, levels=[0.0], colors="black", linewidths=2.0)
    ax.clabel(cs, fmt={0.0: "r_opt = 0 (CE)"}, fontsize=10)
    ax.text(0.05, 0.85, "use LS (r_opt > 0)", transform=ax.transAxes, fontsize=12, fontweight="bold")
    ax.text(0.95, 0.1, "use NLS (r_opt < 0)", transform=ax.transAxes, ha="right", fontsize=12,
            fontweight="bold", color="white")
    ax.set_xlabel("noise rate " + ("e" if k == 2 else "ε"))
    ax.set_ylabel("clean optimal smooth rate r*")
    ax.set_title(f"optimal smooth rate r_opt (K = {k})")
    fig.colorbar(im, ax=ax, label=_minus(f"r_opt (clipped at {fmt_rate(r_min)})"))
    return fig
