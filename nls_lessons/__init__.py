"""nls_lessons: the helper library of the course on label smoothing, negative label
smoothing and noisy labels (Wei et al., "To Smooth or Not? When Label Smoothing Meets
Noisy Labels", ICML 2022).

One module per concept, in the order the course walks them:
``noise`` -> ``losses`` -> ``theory`` -> ``data`` -> ``models`` -> ``train`` ->
``metrics`` -> ``plots`` -> ``widgets`` (with ``checks`` for argument checks and
``progress`` for progress bars). Import the ones you need, e.g.
``from nls_lessons import noise, losses``.

Beside the learner's library: ``exercises`` (the self-checks), ``paper`` (lesson 05's
paper-scale stack, ``python -m nls_lessons.paper``) and ``publish`` (the book, the slides and
the lab launcher). Imports only go down that order; ``tests/test_architecture.py`` checks it.
"""
__version__ = "0.1.0"

PAPER_URL = "https://arxiv.org/abs/2106.04149"
