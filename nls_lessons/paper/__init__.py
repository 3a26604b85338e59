"""Lesson 05 at paper scale: reproduce the paper's CIFAR experiments (protocols, a resumable
grid, a results store, the report, a command line).

Lesson 05 (paper scale). Run ``python -m nls_lessons.paper --help``.

Four protocols (PAPER_NOTES §3.2-3.4; epoch counts are parameters):

* ``official``: the official warm-up route (``main_warmup.py`` + ``main_GLS_load.py``):
  ResNet-34; 120 epochs of CE warm-up with plain SGD (no momentum, no weight decay), learning
  rate 0.1 / 0.01 / 0.001 in steps of 40 epochs; keep the checkpoint with the best test
  accuracy; then GLS for 100 epochs from it with a fresh optimiser at learning rate 1e-6,
  momentum 0.9, Nesterov, weight decay 1e-4, BatchNorm in train mode.
* ``direct``: the official direct route (``main_GLS_direct_train.py``): ResNet-34 trained with
  GLS from scratch for 200 epochs, SGD momentum 0.9, Nesterov, weight decay 1e-4, learning rate
  0.1 / 0.01 / 0.001 at epochs 100 and 150. One difference from the official script: the
  course's engine stops a model whose loss diverges (:func:`nls_lessons.losses.diverging`) and
  keeps its best accuracy from the epochs before, while the official script trains on through
  all 200 epochs and keeps the best test accuracy of all of them.
* ``paper``: both routes above for every setting; :func:`summarize` reports, per (dataset,
  noise, noise rate, smooth rate), the better of the two. Table 2 does so "when learning with
  noisy labels" (ICLR submission §6.1); the text gives no rule for clean data, and taking the
  better of the two at noise rate 0 as well is the course's own choice.
* ``fast`` (**a course extension**, not the paper's recipe): a ResNet-9-style net, a 16-epoch
  one-cycle CE warm-up (batch 512), then 4-epoch GLS fine-tunes of *all* smooth rates at
  learning rate 2e-3 from the shared warm-up checkpoint. It exists to run the whole grid in
  minutes on one GPU; how close it comes to Table 2 is unmeasured until a GPU run measures it.

``official``, ``direct`` and ``paper`` train in fp32 on the official draw of the noisy labels
(:func:`nls_lessons.noise.inject` with ``method="official"``: ``RandomState(0)`` for every run,
as the official scripts do for CIFAR-10). For CIFAR-100 the official code draws nothing: it
loads pre-generated files from ``noise_label/cifar-100/`` that its repository does not ship, so
the course's CIFAR-100 labels are its own draw (the CIFAR-10 algorithm) and a CIFAR-100
comparison with Table 2 is not on the paper's labels. bf16 autocast and channels-last are opt-in there
(``precision="bf16"``, command line ``--precision bf16``) and the default of ``fast``, which
draws its noise with the course's sampler seeded by the run's seed.

In every protocol the models of one (noise, seed) cell share the noisy labels, the
initialisation (or warm-up checkpoint) and the batch order, so comparisons across smooth rates
are paired. The fine-tunes of all rates are trained as one stacked model
(``torch.func.stack_module_state`` + ``vmap(functional_call)``), or in a loop over rates.
Accuracies are in percent, like the paper's tables; ``best_acc`` is the best test accuracy over
epochs (what the official code keeps; the paper's text does not say how the epoch is chosen),
``final_acc`` the last epoch's. Divergence has the one
definition of the library, :func:`nls_lessons.losses.diverging`; ``diverged_epoch`` is the
1-based epoch of the first diverging step, missing when the model never diverged.

Results are stored one JSON file per finished (cell, smooth rate) row in ``<out>/rows/``,
written atomically (temporary file + ``os.replace``) and named by the row's key, so a run
killed at any moment, or two runs writing the same ``--out`` at once, never leave a
half-written or a duplicated row. ``<out>/results.csv`` is an export rebuilt from ``rows/``.

Course extensions, marked as such wherever they appear: pair-flip noise for K != 10 (the
official pair table exists for CIFAR-10 only), the Patrini-style ``asymmetric`` kind, and the
``fast`` protocol. The paper's "asym" columns are read as the official pair-flip generator;
that reading is UNCONFIRMED (PAPER_NOTES §3.1).

The package, one module per concept (each module's docstring says more):

* :mod:`~nls_lessons.paper.cifar`: CIFAR-10/100 images from a local folder, synthetic or CIFAR-N labels;
* :mod:`~nls_lessons.paper.resnet`: the official ResNet-34 and the fast net;
* :mod:`~nls_lessons.paper.protocols`: :class:`Phase`, :class:`Protocol`, :func:`get_protocol`,
  :func:`protocol_routes`, :class:`DataSpec`;
* :mod:`~nls_lessons.paper.engine`: :func:`train_models` (the stacked trainer), :func:`evaluate`;
* :mod:`~nls_lessons.paper.runner`: :func:`run_cell`, :func:`run_grid` (resumable, Dask);
* :mod:`~nls_lessons.paper.store`: the results store, :func:`load_results`, :func:`export_csv`;
* :mod:`~nls_lessons.paper.report`: :func:`paper_table2`, :func:`summarize`, :func:`format_table`,
  :func:`plot_results`, :func:`plot_table2`;
* :mod:`~nls_lessons.paper.estimate`: throughput and time estimates for ``--dry-run``;
* :mod:`~nls_lessons.paper.cli`: the command line, :func:`main`.
"""
from __future__ import annotations

from . import cifar, resnet
from .cli import build_parser, main
from .engine import evaluate, train_models
from .estimate import (FP32_FACTOR_CUDA, THROUGHPUT, assumed_throughput, describe_plan, estimate_seconds,
                       format_duration, grid_estimate, measure_throughput)
from .protocols import (NOISE_METHODS, PAPER_RATES, PRECISIONS, PROTOCOL_NAMES, PROTOCOLS, ROUTES, DataSpec,
                        Phase, Protocol, get_protocol, protocol_routes)
from .report import (OKABE_ITO, PAPER_DIR, TABLE2_NOISE_RATES, format_table, paper_cifar_n, paper_table2,
                     plot_results, plot_table2, summarize)
from .runner import grid_size, initial_state, plan_grid, run_cell, run_grid, select
from .store import COURSE_RESULTS, DEFAULT_OUT, KEY, ROWS_DIR, export_csv, load_results, save_rows

#: The public names (what ``from nls_lessons.paper import *`` gives, and the compatibility module
#: ``reproduce.py`` re-exports).
__all__ = [
    # protocols
    "NOISE_METHODS", "PAPER_RATES", "PRECISIONS", "PROTOCOL_NAMES", "PROTOCOLS", "ROUTES", "DataSpec", "Phase",
    "Protocol", "get_protocol", "protocol_routes",
    # engine, runner
    "evaluate", "train_models", "grid_size", "initial_state", "plan_grid", "run_cell", "run_grid", "select",
    # store
    "COURSE_RESULTS", "DEFAULT_OUT", "KEY", "ROWS_DIR", "export_csv", "load_results", "save_rows",
    # report
    "OKABE_ITO", "PAPER_DIR", "TABLE2_NOISE_RATES", "format_table", "paper_cifar_n", "paper_table2", "plot_results",
    "plot_table2", "summarize",
    # estimate
    "FP32_FACTOR_CUDA", "THROUGHPUT", "assumed_throughput", "describe_plan", "estimate_seconds", "format_duration",
    "grid_estimate", "measure_throughput",
    # cli
    "build_parser", "main",
]
