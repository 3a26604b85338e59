"""The learner's Jupyter configuration for ``make lab``: nbgrader's lecturer tools turned off.

nbgrader (the ``[classroom]`` extra) adds formgrader and friends to every JupyterLab in the
environment; a learner's lab reads this folder first (``JUPYTER_CONFIG_PATH``) and does not show
them. :mod:`nls_lessons.publish.lab` uses it; a lecturer's ``make lecture`` does not.
"""
from __future__ import annotations

import json
import sys
from pathlib import Path

#: The lecturer's tools that nbgrader (the ``[classroom]`` extra) adds to JupyterLab; a learner's
#: ``make lab`` turns them off (:func:`install_learner_config`). The student side (the assignment
#: list, "Validate") stays: on a JupyterHub a learner fetches and submits with it.
INSTRUCTOR_LAB_PLUGINS = ("@jupyter/nbgrader:formgrader", "@jupyter/nbgrader:create-assignment",
                          "@jupyter/nbgrader:course-list", "@jupyter/nbgrader:menu")
INSTRUCTOR_SERVER_EXTENSIONS = ("nbgrader.server_extensions.formgrader", "nbgrader.server_extensions.course_list")


def learner_config_dir(prefix: Path | str = sys.prefix) -> Path:
    """``<prefix>/etc/nls-lessons/learner``: Jupyter config read only by ``make lab``."""
    return Path(prefix) / "etc" / "nls-lessons" / "learner"


def install_learner_config(prefix: Path | str = sys.prefix) -> Path:
    """Write the learner-only Jupyter config (:data:`INSTRUCTOR_LAB_PLUGINS` and
    :data:`INSTRUCTOR_SERVER_EXTENSIONS` off) and return its folder, for ``JUPYTER_CONFIG_PATH``.
    A folder there outranks the environment's own config, so nbgrader's "on" is overridden for
    this launch only; a lecturer's plain ``jupyter lab`` keeps formgrader."""
    folder = learner_config_dir(prefix)
    files = {
        folder / "labconfig" / "page_config.json": {"disabledExtensions": {p: True for p in INSTRUCTOR_LAB_PLUGINS}},
        folder / "jupyter_server_config.json": {
            "ServerApp": {"jpserver_extensions": {e: False for e in INSTRUCTOR_SERVER_EXTENSIONS}}},
    }
    for path, data in files.items():
        text = json.dumps(data, indent=2, sort_keys=True) + "\n"
        if not path.exists() or path.read_text() != text:
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(text)
    return folder
