"""``python -m nls_lessons.paper``: lesson 05's command line (:func:`nls_lessons.paper.cli.main`)."""
import sys

from .cli import main

if __name__ == "__main__":
    sys.exit(main())
