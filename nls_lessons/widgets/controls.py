"""The explorers' controls: slider ranges, argument checks, sliders and the device toggle.

Shared by every explorer of :mod:`nls_lessons.widgets` (lessons 01-04 and 06): a constructor
checks its start values against the library's own rules and the slider's range up front (a
clear error naming the argument, never a silently clamped slider), and the status lines and
frame captions write rates the same way (``_r``, a true minus sign via ``_minus``).
"""
from __future__ import annotations

from nls_lessons import checks, plots


def _r(x) -> str:
    return plots.fmt_rate(x)


#: Slider ranges (lo, hi, step) of the live explorers; a constructor rejects a start value
#: outside them instead of letting the slider clamp it silently.
NOISE_SLIDER = (0.0, 0.9, 0.05)
SMOOTH_SLIDER = (-8.0, 1.0, 0.1)
TRAIN_NOISE_SLIDER = (0.0, 0.8, 0.05)
N_DIGITS = 1797
MAX_GRID = 400


def _span(lo, hi) -> str:
    return f"[{lo:g}, {hi:g}]"


def _check_choice(value, name: str, options) -> str:
    if not isinstance(value, str) or value not in options:
        raise ValueError(f"{name} must be one of {tuple(options)}, got {value!r}")
    return value


def _check_int(value, name: str, lo: int, hi: int) -> int:
    return checks.check_integer(value, name, lo, hi)


def _check_smooth_rate(value, name: str = "smooth_rate") -> float:
    """A finite smooth rate <= 1 as a float (strings and booleans rejected up front)."""
    from nls_lessons.losses import check_smooth_rate

    value = checks.check_number(value, name, "a number <= 1 (r < 0: NLS, r = 0: CE, 0 < r <= 1: LS)")
    check_smooth_rate(value, name)
    return value


def _check_slider(value, name: str, slider, check) -> float:
    """``check(value, name)`` (the library's own rule), then the explorer's slider range."""
    value = check(value, name)
    lo, hi = slider[:2]
    if not lo <= value <= hi:
        raise ValueError(f"{name} must lie in the explorer's slider range {_span(lo, hi)}, got {value!r}")
    return value


def _check_debounce(debounce) -> float:
    allowed = "a number of seconds >= 0 (at most 10)"
    try:
        seconds = checks.check_number(debounce, "debounce", allowed)
    except TypeError as exc:
        raise ValueError(str(exc)) from None
    if not 0 <= seconds <= 10:
        raise ValueError(f"debounce must be {allowed}, got {debounce!r}")
    return seconds


def _minus(s: str) -> str:
    return plots._minus(s)


def _float_slider(description, value, lo, hi, step, *, continuous=True, fmt=".2f"):
    import ipywidgets as W

    return W.FloatSlider(value=value, min=lo, max=hi, step=step, description=description,
                         continuous_update=continuous, readout_format=fmt,
                         style={"description_width": "initial"}, layout=W.Layout(width="380px"))


def _cuda_available() -> bool:
    try:
        import torch

        return bool(torch.cuda.is_available())
    except Exception:
        return False


def _device_toggle():
    import ipywidgets as W

    cuda = _cuda_available()
    toggle = W.ToggleButtons(options=[("CPU", "cpu"), ("CUDA", "cuda")], value="cpu", description="device",
                             disabled=not cuda, style={"description_width": "initial", "button_width": "60px"},
                             tooltips=["train on the CPU", "train on the GPU" if cuda else "no CUDA GPU here"])
    reason = W.HTML("" if cuda else
                    '<span style="color:#555">CUDA unavailable: <code>torch.cuda.is_available()</code> is False '
                    "(no GPU or a CPU-only torch), so training runs on the CPU.</span>")
    return toggle, reason

