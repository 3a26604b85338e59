"""How the course is served: nothing here is imported by a lesson (issue 16's ``publish`` layer).

- :mod:`~nls_lessons.publish.book` (``make book``): every lesson 00-06 executed (cached) and
  rendered as the static offline book; :mod:`~nls_lessons.publish.chapter` turns one executed
  notebook into its chapter, :mod:`~nls_lessons.publish.book_math` is mdBook's math preprocessor.
- :mod:`~nls_lessons.publish.slides` (``make slides``): offline reveal.js decks, learner and
  instructor copies.
- :mod:`~nls_lessons.publish.lab` (``make lab``, ``make reset``): JupyterLab on the learner's
  working copies in ``lessons/``, with the course's RISE settings.
- :mod:`~nls_lessons.publish.learner`: the learner version of a lesson (solutions folded behind
  "Show the solution"), shared by the book, the decks and the working copies.
- :mod:`~nls_lessons.publish.execute`: notebook execution with IPC kernels and a silence watchdog.
- ``assets/``: the slides template, vendored MathJax and reveal.js (the explorers' static
  frames script, ``frames.js``, lives beside :mod:`nls_lessons.widgets.frames`, which owns it).

It may import the whole library (layers 0-4: the modules, ``widgets``, ``paper``, ``exercises``);
nothing below imports it. The submodules are not imported here: ``python -m
nls_lessons.publish.book`` loads only what the book needs.
"""
