"""Moved: lesson 05's paper-scale stack is the package :mod:`nls_lessons.paper`.

This module only keeps older code working: ``from nls_lessons import reproduce`` gives the
same public names as ``from nls_lessons import paper``, and ``python -m nls_lessons.reproduce
...`` says where the command went and runs ``python -m nls_lessons.paper`` with the same
arguments. New code uses :mod:`nls_lessons.paper`.
"""
import sys

from nls_lessons.paper import *  # noqa: F401,F403  (the compatibility re-export)
from nls_lessons.paper import __all__, main  # noqa: F401

if __name__ == "__main__":
    print("note: `python -m nls_lessons.reproduce` moved to `python -m nls_lessons.paper`; "
          "running that with the same arguments", file=sys.stderr)
    sys.exit(main(sys.argv[1:]))
