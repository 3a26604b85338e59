"""nls_lessons: the helper library of the course on label smoothing, negative label
smoothing and noisy labels (Wei et al., "To Smooth or Not? When Label Smoothing Meets
Noisy Labels", ICML 2022).

One module per concept, in the order the course walks them:
``noise`` -> ``losses`` -> ``theory`` -> ``data`` -> ``models`` -> ``train`` ->
``metrics`` -> ``plots`` -> ``widgets``. Import the ones you need, e.g.
``from nls_lessons import noise, losses``.
"""
__version__ = "0.1.0"

PAPER_URL = "https://arxiv.org/abs/2106.04149"
