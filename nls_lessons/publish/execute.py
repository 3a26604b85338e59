"""Executing notebooks for the book and the slides: no port races, and no silent waits.

    from nls_lessons.publish.execute import execute
    nb = execute(nb, name="00_welcome.py", cwd="notebooks", env=env)

Two things make a build dependable (issue 13, item 1):

- **Kernels talk over IPC, not TCP.** jupyter_client picks a kernel's five TCP ports in the
  launching process by binding port 0 and closing the socket; its ``LocalPortCache`` guards
  only that one process (its docstring says so; jupyter_client#487). The book runs two worker
  processes, each with its own cache, beside test workers and other kernels, and between
  the pick and the kernel's own ``bind`` (1-3 s of ipykernel start-up on a loaded machine)
  any other process may take such a port. Here every kernel gets Unix-domain sockets in a
  private temporary folder (``transport="ipc"``), so there are no ports to collide on.
- **A watchdog.** A cell whose kernel is *silent* (no message on IOPub and no CPU time used)
  for ``silence_timeout`` seconds is taken for a lost kernel: the notebook is re-run once from
  the start in a fresh kernel; if that one falls silent too, :class:`ExecutionError` names the
  notebook and the cell. A kernel that computes (uses CPU) or prints is never interrupted
  before the per-cell ``timeout``.
"""
from __future__ import annotations

import functools
import os
import shutil
import tempfile
import time
from pathlib import Path

#: Seconds a running cell's kernel may stay silent (no IOPub message, no CPU) before the
#: watchdog acts. Override with the environment variable NLS_SILENCE_TIMEOUT.
SILENCE_TIMEOUT = 120.0
#: Seconds one cell may run in all (silent or not).
CELL_TIMEOUT = 900.0
#: Fresh kernels tried after the first one fell silent.
RESTARTS = 1


class ExecutionError(RuntimeError):
    """A notebook could not be executed; the message names the notebook and the cell."""


class _KernelSilent(Exception):
    def __init__(self, cell_index: int, silent_for: float):
        super().__init__(cell_index, silent_for)
        self.cell_index = cell_index
        self.silent_for = silent_for


def _positive(name: str, value) -> float:
    try:
        value = float(value)
    except (TypeError, ValueError):
        raise ValueError(f"{name} must be a positive number of seconds, got {value!r}") from None
    if not value > 0 or value != value or value == float("inf"):
        raise ValueError(f"{name} must be a positive, finite number of seconds, got {value!r}")
    return value


def silence_timeout_default() -> float:
    """:data:`SILENCE_TIMEOUT`, or ``$NLS_SILENCE_TIMEOUT`` when set."""
    env = os.environ.get("NLS_SILENCE_TIMEOUT")
    return _positive("NLS_SILENCE_TIMEOUT", env) if env else SILENCE_TIMEOUT


def _cell_label(nb, index: int) -> str:
    cell = nb.cells[index]
    first = next((line.strip() for line in cell.source.splitlines() if line.strip()), "")
    first = first if len(first) <= 60 else first[:57] + "..."
    code_number = sum(1 for c in nb.cells[: index + 1] if c.cell_type == "code")
    return f"cell {index + 1} (code cell {code_number}: {first!r})"


@functools.lru_cache(maxsize=None)
def _client_class():
    """NotebookClient with IPC kernels and a silence watchdog (built lazily: nbclient is heavy)."""
    from jupyter_client.manager import AsyncKernelManager
    from nbclient import NotebookClient
    from nbclient.exceptions import CellTimeoutError

    class WatchedClient(NotebookClient):
        def __init__(self, nb, *, silence_timeout: float, cell_timeout: float, ipc_dir: str, **kw):
            self._silence = silence_timeout
            self._cell_timeout = cell_timeout
            self._ipc_dir = ipc_dir
            # nbclient waits on the shell channel for `timeout` s at a time and then asks
            # _async_handle_timeout what to do: poll often, decide there.
            poll = max(0.2, min(silence_timeout / 4, 5.0))
            super().__init__(nb, timeout_func=lambda cell: poll, **kw)
            self._index = -1
            self._started = self._last = time.monotonic()
            self._cpu = None

        def create_kernel_manager(self):
            self.km = AsyncKernelManager(kernel_name=self.kernel_name, config=self.config,
                                         transport="ipc", ip=os.path.join(self._ipc_dir, "kernel"))
            return self.km

        async def async_execute_cell(self, cell, cell_index, execution_count=None, store_history=True):
            self._index = cell_index
            self._started = self._last = time.monotonic()
            self._cpu = self._kernel_cpu()
            return await super().async_execute_cell(cell, cell_index, execution_count, store_history)

        def process_message(self, msg, cell, cell_index):
            self._last = time.monotonic()
            return super().process_message(msg, cell, cell_index)

        def _kernel_cpu(self) -> float | None:
            """CPU seconds used so far by the kernel process (None when it cannot be read)."""
            try:
                import psutil

                pid = getattr(getattr(self.km, "provisioner", None), "pid", None)
                if pid is None:
                    return None
                t = psutil.Process(pid).cpu_times()
                return t.user + t.system
            except Exception:       # no psutil, process gone: silence alone decides
                return None

        async def _async_handle_timeout(self, timeout, cell=None):
            now = time.monotonic()
            cpu = self._kernel_cpu()
            if cpu is not None and self._cpu is not None and cpu - self._cpu > 0.05 * timeout:
                self._last = now        # computing: busy, not lost
            self._cpu = cpu
            if now - self._started > self._cell_timeout:
                raise CellTimeoutError.error_from_timeout_and_cell(
                    "Cell execution timed out", self._cell_timeout, cell)
            if now - self._last >= self._silence:
                self.shutdown_kernel = "immediate"      # a lost kernel gets no polite request
                raise _KernelSilent(self._index, now - self._last)
            return None                 # keep waiting

    return WatchedClient


def execute(nb, *, name: str, cwd: Path | str, env: dict | None = None, kernel_name: str = "python3",
            silence_timeout: float | None = None, timeout: float = CELL_TIMEOUT,
            restarts: int = RESTARTS, allow_errors: bool = False, startup_timeout: float = 60.0,
            store_widget_state: bool = True, log=None):
    """Execute notebook ``nb`` (nbformat v4, changed in place and returned) in folder ``cwd``.

    ``name`` labels the notebook in errors. ``silence_timeout`` (default
    :func:`silence_timeout_default`) and ``timeout`` (per cell) are in seconds. A kernel that
    falls silent is replaced ``restarts`` times (the notebook re-runs from its first cell);
    then :class:`ExecutionError` is raised. A kernel that dies raises it at once.
    """
    import copy

    from nbclient.exceptions import CellExecutionError, CellTimeoutError, DeadKernelError

    silence = silence_timeout_default() if silence_timeout is None else _positive("silence_timeout", silence_timeout)
    timeout = _positive("timeout", timeout)
    startup_timeout = _positive("startup_timeout", startup_timeout)
    if not isinstance(restarts, int) or isinstance(restarts, bool) or restarts < 0:
        raise ValueError(f"restarts must be an integer >= 0, got {restarts!r}")
    nb.metadata.setdefault("kernelspec", {"name": kernel_name, "display_name": "Python 3", "language": "python"})
    client_class = _client_class()
    pristine = copy.deepcopy(nb)
    for attempt in range(restarts + 1):
        work = copy.deepcopy(pristine)
        ipc_dir = tempfile.mkdtemp(prefix="nls-kernel-")
        client = client_class(work, silence_timeout=silence, cell_timeout=timeout, ipc_dir=ipc_dir,
                              kernel_name=kernel_name, allow_errors=allow_errors,
                              startup_timeout=int(max(1, startup_timeout)),
                              store_widget_state=store_widget_state, record_timing=False,
                              resources={"metadata": {"path": str(cwd)}})
        try:
            client.execute(env=dict(os.environ) if env is None else env, cwd=str(cwd))
        except _KernelSilent as e:
            where = _cell_label(work, e.cell_index)
            if attempt < restarts:
                if log:
                    log(f"  {name}: kernel silent for {e.silent_for:.0f} s at {where}; "
                        "restarting it and running the notebook again")
                continue
            raise ExecutionError(
                f"{name}: {where}: the kernel sent nothing and used no CPU for {e.silent_for:.0f} s "
                f"(silence limit {silence:g} s), {restarts + 1} time(s) in a row with a fresh kernel. "
                "Run the notebook in JupyterLab to see whether that cell waits on something; raise "
                "the limit with NLS_SILENCE_TIMEOUT if it legitimately computes without output.") from None
        except CellTimeoutError as e:
            raise ExecutionError(f"{name}: a cell ran longer than {timeout:g} s: {e}") from None
        except DeadKernelError as e:
            index = client._index if client._index >= 0 else 0
            raise ExecutionError(f"{name}: {_cell_label(work, index)}: the kernel died ({e})") from None
        except CellExecutionError as e:
            index = client._index if client._index >= 0 else 0
            raise ExecutionError(f"{name}: {_cell_label(work, index)} raised:\n{e}") from None
        except RuntimeError as e:       # the kernel did not answer kernel_info at start-up
            if "Kernel didn't respond" in str(e) and attempt < restarts:
                if log:
                    log(f"  {name}: kernel did not start ({e}); trying a fresh one")
                continue
            raise ExecutionError(f"{name}: {e}") from None
        finally:
            shutil.rmtree(ipc_dir, ignore_errors=True)
        nb.cells = work.cells
        nb.metadata = work.metadata
        return nb
    raise AssertionError("unreachable")
