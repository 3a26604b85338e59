"""Moved: this module is now :mod:`nls_lessons.paper.cifar` (lesson 05's paper-scale stack).

Kept so that code written before the move, such as a learner's working copy of lesson 05
(``from nls_lessons import cifar``), still runs: importing this name gives the very same module
object as ``nls_lessons.paper.cifar``. New code imports ``nls_lessons.paper.cifar``.
"""
import importlib
import sys

sys.modules[__name__] = importlib.import_module("nls_lessons.paper.cifar")
