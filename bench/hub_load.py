"""What one machine holds (issue 28 item 5): N learners on the class hub, measured. Not a test.

For every N of ``--users`` a fresh try-out hub (``nls_lessons.publish.hub.running_hub``: the
config ``make hub`` runs, a real configurable-http-proxy) serves N simulated learners and one
more. Each of the N logs in through the hub's login form, has their server started, opens lesson
03's kernel (a session on their ``lessons/03_*.ipynb``) and makes lesson 03's training explorer
there, then drives it through the kernel protocol (websocket to the server's kernel channels),
as a person does: a slider move every ``--interval`` s (random r on the slider; every 5th move an
ε step), each one code that sets the explorer's slider and waits for its new figure. Meanwhile
the extra learner runs lesson 02 top to bottom in their own kernel. Per N, one row:

- login->idle kernel: from the login form to the kernel's first idle status (median, max);
- move p50 / p95: a slider move's latency, request sent to the new figure drawn (reply back);
- MB/learner: a learner's server + kernel RSS (``/proc`` via psutil), the largest sample, mean
  over the N learners; CPU: cores the hub's processes used while the moves ran (and the whole
  machine's, which includes other work on it); failed: moves that errored or took > 30 s.

Then the capacity conclusion (learners per core and GB at p95 <= 1 s; a machine for 30 and for
300), written with the rows to ``classroom/capacity.json`` (``--write``) with the date and this
machine, from which ``classroom/z2jh/values.yaml``'s resources are derived (:func:`z2jh_resources`).

    PYTHONPATH=$PWD OMP_NUM_THREADS=1 .venv/bin/python bench/hub_load.py --users 1 2 4 8 16 [--write]

Everything it starts is stopped at the end of every N (the hub stops its proxy, servers and
kernels; a learner that fails or hangs is cut off by the timeouts and counted, never waited for).
"""
from __future__ import annotations

import argparse
import asyncio
import datetime
import json
import math
import os
import platform
import random
import statistics
import sys
import tempfile
import threading
import time
import uuid
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
CAPACITY = REPO / "classroom" / "capacity.json"
LESSON_03 = "lessons/03_negative_label_smoothing.ipynb"
LESSON_02 = "lessons/02_label_smoothing.ipynb"
P95_GOAL_S = 1.0
MOVE_TIMEOUT_S = 30.0
SETUP_CODE = """
import os, time
os.environ["NLS_HUB"] = {hub!r}          # what the hub's spawner sets (classroom config)
import nls_lessons
from nls_lessons import widgets
ex = widgets.training_explorer(smooth_rate=-2.0, noise_rate=0.4)     # lesson 03's explorer
ex.request(); assert ex.wait(120), "first frame"
print(nls_lessons.__file__, widgets.hub_mode(), flush=True)
"""
MOVE_CODE = "ex.set({control}={value!r}); assert ex.wait({timeout}), 'no new figure'; " \
            "assert ex.result is not None and ex.result['{control}'] == {value!r}"


# ---------------------------------------------------------------------------- the kernel protocol
def decode(raw) -> dict:
    """A message of the server's (legacy) kernel websocket: JSON text, or binary when it has
    buffers (a big-endian uint32 count n, n offsets, the JSON at the first, then the buffers)."""
    if isinstance(raw, str):
        return json.loads(raw)
    n = int.from_bytes(raw[:4], "big")
    offsets = [int.from_bytes(raw[4 + 4 * i:8 + 4 * i], "big") for i in range(n)]
    return json.loads(raw[offsets[0]:offsets[1] if n > 1 else None])


class Kernel:
    """One kernel's channels over the server's websocket (Jupyter's JSON message protocol)."""

    def __init__(self, ws):
        self.ws, self.session = ws, uuid.uuid4().hex

    @classmethod
    async def connect(cls, base: str, kernel_id: str, token: str) -> "Kernel":
        from tornado.httpclient import HTTPRequest
        from tornado.websocket import websocket_connect

        url = base.replace("http", "ws", 1) + f"api/kernels/{kernel_id}/channels"
        ws = await asyncio.wait_for(websocket_connect(
            HTTPRequest(url, headers={"Authorization": f"token {token}"}), max_message_size=256 << 20), 60)
        return cls(ws)

    async def execute(self, code: str, timeout: float) -> tuple[bool, str]:
        """Run ``code``; (ok, error text) once its reply and the idle status after it arrived."""
        msg_id = uuid.uuid4().hex
        self.ws.write_message(json.dumps({
            "header": {"msg_id": msg_id, "msg_type": "execute_request", "username": "bench",
                       "session": self.session, "date": datetime.datetime.now(datetime.timezone.utc).isoformat(),
                       "version": "5.3"},
            "parent_header": {}, "metadata": {}, "channel": "shell", "buffers": [],
            "content": {"code": code, "silent": False, "store_history": False, "user_expressions": {},
                        "allow_stdin": False, "stop_on_error": True}}))
        reply, idle, error = None, False, ""
        deadline = time.monotonic() + timeout
        while reply is None or not idle:
            left = deadline - time.monotonic()
            if left <= 0:
                return False, f"timeout after {timeout} s"
            raw = await asyncio.wait_for(self.ws.read_message(), left)
            if raw is None:
                return False, "websocket closed"
            msg = decode(raw)
            if msg.get("parent_header", {}).get("msg_id") != msg_id:
                continue
            kind = msg["header"]["msg_type"]
            if kind == "execute_reply":
                reply = msg["content"]
            elif kind == "status" and msg["content"]["execution_state"] == "idle":
                idle = True
            elif kind == "error":
                error = f"{msg['content']['ename']}: {msg['content']['evalue']}"
        return reply.get("status") == "ok", error or reply.get("evalue", "")

    async def wait_idle(self, timeout: float) -> None:
        ok, err = await self.execute("", timeout)     # a kernel_info-like round trip: idle and answering
        if not ok:
            raise RuntimeError(f"kernel not idle: {err}")

    def close(self):
        self.ws.close()


# ---------------------------------------------------------------------------- one learner
def login(hub_url: str, user: str, password: str):
    """Log in through the hub's form (its _xsrf cookie first); the session's cookies."""
    import requests

    s = requests.Session()
    s.get(f"{hub_url}/hub/login", timeout=30)
    r = s.post(f"{hub_url}/hub/login", data={"username": user, "password": password,
                                              "_xsrf": s.cookies.get("_xsrf", "")},
               allow_redirects=False, timeout=30)
    if r.status_code not in (302, 303) or not any(c.name == "jupyterhub-hub-login" for c in s.cookies):
        raise RuntimeError(f"login of {user}: HTTP {r.status_code}")
    return s


async def open_kernel(hub, user: str, path: str, timeout: float = 180) -> tuple[Kernel, float]:
    """Log ``user`` in, start their server, open a session on ``path``; (kernel, seconds to idle)."""
    import requests

    t0 = time.perf_counter()
    await asyncio.to_thread(login, hub.url, user, hub.password)
    await asyncio.to_thread(hub.start_server, user, wait=False)
    await asyncio.to_thread(hub.wait_server, user, True, timeout)
    token = await asyncio.to_thread(hub.user_token, user)
    base = f"{hub.url}/user/{user}/"
    reply = await asyncio.to_thread(requests.post, base + "api/sessions", timeout=60,
                                    headers={"Authorization": f"token {token}"},
                                    json={"path": path, "type": "notebook", "name": Path(path).name,
                                          "kernel": {"name": "python3"}})
    reply.raise_for_status()
    kernel = await Kernel.connect(base, reply.json()["kernel"]["id"], token)
    await kernel.wait_idle(timeout)
    return kernel, time.perf_counter() - t0


async def explorer_learner(hub, user: str, hub_mode: bool, duration: float, interval: float, seed: int,
                           start_drive: asyncio.Event, out: dict) -> None:
    from nls_lessons.widgets.rate_axis import NOISE_AXIS, SMOOTH_AXIS

    out.update(user=user, moves=[], failed=0, errors=[])
    kernel = None
    try:
        kernel, out["ready_s"] = await open_kernel(hub, user, LESSON_03)
        ok, err = await kernel.execute(SETUP_CODE.format(hub="1" if hub_mode else ""), 300)
        if not ok:
            raise RuntimeError(f"explorer: {err}")
        out["ready"] = True
        await start_drive.wait()
        rng = random.Random(seed)
        await asyncio.sleep(rng.uniform(0, interval))       # learners do not move in step
        eps, end, n = 0.4, time.monotonic() + duration, 0
        while time.monotonic() < end:
            n += 1
            if n % 5 == 0:
                eps = rng.choice([e for e in NOISE_AXIS if abs(e - eps) < 0.051 and e != eps])
                control, value = "noise_rate", eps
            else:
                control, value = "smooth_rate", rng.choice(SMOOTH_AXIS)
            t0 = time.perf_counter()
            try:
                ok, err = await kernel.execute(MOVE_CODE.format(control=control, value=value,
                                                                timeout=MOVE_TIMEOUT_S), MOVE_TIMEOUT_S + 5)
            except (asyncio.TimeoutError, OSError) as exc:
                ok, err = False, repr(exc)
            seconds = time.perf_counter() - t0
            if ok:
                out["moves"].append(seconds)
            else:
                out["failed"] += 1
                out["errors"].append(err[:200])
            await asyncio.sleep(max(0.0, interval - seconds) * rng.uniform(0.7, 1.3))
    except Exception as exc:                 # counted: the row says it failed, the run goes on
        out["errors"].append(f"{type(exc).__name__}: {exc}"[:300])
        out["failed"] += 1
    finally:
        if kernel is not None:
            kernel.close()


async def lesson_runner(hub, user: str, start_drive: asyncio.Event, out: dict) -> None:
    """The extra learner: lesson 02's code cells in order in their own kernel, once."""
    import nbformat

    out.update(user=user, errors=[])
    kernel = None
    try:
        kernel, out["ready_s"] = await open_kernel(hub, user, LESSON_02)
        await start_drive.wait()
        cells = [c.source for c in nbformat.read(hub.home(user) / LESSON_02, 4).cells if c.cell_type == "code"]
        t0 = time.perf_counter()
        for i, code in enumerate(cells):
            ok, err = await kernel.execute(code, 600)
            if not ok:
                out["errors"].append(f"cell {i}: {err}"[:300])
                break
        out.update(seconds=time.perf_counter() - t0, cells=len(cells))
    except Exception as exc:
        out["errors"].append(f"{type(exc).__name__}: {exc}"[:300])
    finally:
        if kernel is not None:
            kernel.close()


# ---------------------------------------------------------------------------- measuring the machine
class Sampler:
    """Every ``period`` s: each learner's server + kernel RSS (the server is the hub's child
    whose environment names the learner), and the hub's process tree CPU times."""

    def __init__(self, hub_pid: int, period: float = 2.0):
        import psutil

        self.psutil, self.hub, self.period = psutil, psutil.Process(hub_pid), period
        self.rss: dict[str, float] = {}
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def tree(self):
        try:
            return [self.hub] + self.hub.children(recursive=True)
        except self.psutil.NoSuchProcess:
            return []

    def cpu(self) -> dict[int, float]:
        out = {}
        for p in self.tree():
            try:
                t = p.cpu_times()
                out[p.pid] = t.user + t.system
            except self.psutil.Error:
                pass
        return out

    def _sample(self):
        psutil = self.psutil
        try:
            servers = self.hub.children()
        except psutil.NoSuchProcess:
            return
        for server in servers:
            try:
                user = server.environ().get("JUPYTERHUB_USER")
                if not user:
                    continue
                mb = sum(p.memory_info().rss for p in [server] + server.children(recursive=True)) / 2**20
            except psutil.Error:
                continue
            self.rss[user] = max(self.rss.get(user, 0.0), mb)

    def _run(self):
        while not self._stop.wait(self.period):
            self._sample()

    def __enter__(self):
        self._thread.start()
        return self

    def __exit__(self, *exc):
        self._stop.set()
        self._thread.join(10)


def cpu_delta(before: dict, after: dict) -> float:
    return sum(t - before.get(pid, 0.0) for pid, t in after.items())


def pct(values, q: float) -> float:
    if not values:
        return float("nan")
    s = sorted(values)
    return s[min(len(s) - 1, max(0, math.ceil(q * len(s)) - 1))]


async def run_n(n: int, args, runtime_root: Path) -> dict:
    import psutil

    from nls_lessons.publish import hub as _hub

    users = [f"learner{i + 1}" for i in range(n)]
    runner = "runner"
    with _hub.running_hub(users=users + [runner], runtime_dir=runtime_root / f"n{n}", cull_timeout=24 * 3600,
                          startup_timeout=120) as hub:
        start = asyncio.Event()
        outs = [{} for _ in users]
        lesson: dict = {}
        tasks = [asyncio.create_task(explorer_learner(hub, u, args.hub_mode, args.duration, args.interval,
                                                      1000 * n + i, start, outs[i]))
                 for i, u in enumerate(users)]
        tasks.append(asyncio.create_task(lesson_runner(hub, runner, start, lesson)))
        deadline = time.monotonic() + args.setup_timeout
        while not all(o.get("ready") or o.get("errors") for o in outs) and time.monotonic() < deadline:
            await asyncio.sleep(0.5)
        with Sampler(hub.process.pid) as sampler:
            cpu0, machine0, t0 = sampler.cpu(), psutil.cpu_times(), time.perf_counter()
            start.set()
            done, pending = await asyncio.wait(tasks, timeout=args.duration + args.setup_timeout)
            for task in pending:                     # a learner that hangs is cut off, never waited for
                task.cancel()
            await asyncio.gather(*pending, return_exceptions=True)
            wall = time.perf_counter() - t0
            cpu1, machine1 = sampler.cpu(), psutil.cpu_times()
            sampler._sample()
    moves = [s for o in outs for s in o.get("moves", [])]
    busy = lambda t: sum(getattr(t, f) for f in ("user", "nice", "system", "irq", "softirq", "steal"))  # noqa: E731
    learner_mb = [sampler.rss[u] for u in users if u in sampler.rss]
    return {
        "users": n, "hub_mode": args.hub_mode,
        "ready_s_median": statistics.median([o["ready_s"] for o in outs if "ready_s" in o] or [float("nan")]),
        "ready_s_max": max([o["ready_s"] for o in outs if "ready_s" in o] or [float("nan")]),
        "moves": len(moves), "move_p50_s": pct(moves, 0.5), "move_p95_s": pct(moves, 0.95),
        "failed": sum(o.get("failed", 0) for o in outs) + len(pending),
        "mb_per_learner": statistics.mean(learner_mb) if learner_mb else float("nan"),
        "hub_cores": cpu_delta(cpu0, cpu1) / wall, "machine_cores": (busy(machine1) - busy(machine0)) / wall,
        "lesson02_s": lesson.get("seconds"), "lesson02_errors": lesson.get("errors", []),
        "errors": [e for o in outs for e in o.get("errors", [])][:5],
    }


# ---------------------------------------------------------------------------- the conclusion
def conclusion(rows: list[dict], cores: int) -> dict:
    """Learners per core and GB per learner at p95 <= 1 s (the largest N that kept it, with no
    failed move), and the machines for a class of 30 and of 300 from them. Where no N kept it
    (a machine busy with other work), the classes are sized from the CPU the learners used
    (the most a learner's server + kernel used at any N, the hub's share included), doubled
    for headroom, and ``basis`` says so."""
    used = [r for r in rows if r["moves"]]
    gb = max((r["mb_per_learner"] for r in used if r["mb_per_learner"] == r["mb_per_learner"]), default=0.0) / 1024
    cores_each = max((r["hub_cores"] / (r["users"] + 1) for r in used), default=float("nan"))
    good = [r for r in used if r["move_p95_s"] <= P95_GOAL_S and r["failed"] == 0]
    out = {"cores": cores, "gb_per_learner": round(gb, 2), "cores_per_learner_used": round(cores_each, 3),
           "met": bool(good)}
    if good:
        best = max(good, key=lambda r: r["users"])
        per_core = best["users"] / cores
        out.update(largest_users=best["users"], learners_per_core=round(per_core, 2),
                   limited_by_range=best["users"] == max(r["users"] for r in rows),
                   basis=f"the largest N with slider-move p95 <= {P95_GOAL_S:g} s and no failed move")
    else:
        per_core = 1 / (2 * cores_each)
        worst = min(used, key=lambda r: r["move_p95_s"]) if used else None
        out.update(largest_users=0, learners_per_core=round(per_core, 2), limited_by_range=False,
                   basis=(f"no N kept p95 <= {P95_GOAL_S:g} s here (best p95 {worst['move_p95_s']:.2f} s at N = "
                          f"{worst['users']}, the machine's {cores} cores busy with other work too); sized from the "
                          "CPU a learner used, doubled") if worst else "no moves measured")
    for size in (30, 300):
        out[f"class_{size}"] = {"cores": math.ceil(size / per_core),
                                "memory_gb": math.ceil(size * gb * 1.25 + 2)}   # 25 % headroom + hub, proxy, OS
    return out


def z2jh_resources(capacity: dict) -> dict:
    """classroom/z2jh/values.yaml's ``singleuser.cpu`` / ``singleuser.memory`` from the measurement
    (the course's rule): guarantee = one learner's share (1 / learners per core of the conclusion;
    memory: the largest server + kernel RSS per learner, up to the next 0.25 GB); limit = one
    core (a kernel computes on one BLAS thread, the explorer's background work on one more
    thread at lower priority) and twice the memory guarantee."""
    c = capacity["conclusion"]
    mem_g = math.ceil(c["gb_per_learner"] * 4) / 4
    return {"cpu": {"guarantee": round(1 / c["learners_per_core"], 2), "limit": 1.0},
            "memory": {"guarantee": f"{mem_g:g}G", "limit": f"{2 * mem_g:g}G"}}


def report(capacity: dict) -> str:
    c = capacity["conclusion"]
    head = (f"{c['largest_users']} learners on {c['cores']} cores kept p95 <= {P95_GOAL_S:g} s"
            + (" (the largest N tried: it may hold more)" if c["limited_by_range"] else "")
            if c["met"] else f"capacity: {c['basis']}")
    return (f"\n{head}: {c['learners_per_core']} learners per core, {c['gb_per_learner']} GB per learner "
            f"(server + kernel); a class of 30: {c['class_30']['cores']} cores and {c['class_30']['memory_gb']} GB; "
            f"of 300: {c['class_300']['cores']} cores and {c['class_300']['memory_gb']} GB (several nodes: "
            f"Zero to JupyterHub, classroom/z2jh/, resources {capacity['z2jh']})")


def machine() -> str:
    import psutil

    model = next((line.split(":", 1)[1].strip() for line in Path("/proc/cpuinfo").read_text().splitlines()
                  if line.startswith("model name")), platform.processor()) if Path("/proc/cpuinfo").exists() else ""
    return f"{os.cpu_count()} cores ({model}), {psutil.virtual_memory().total / 2**30:.0f} GiB, {platform.system()}"


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--users", type=int, nargs="+", default=[1, 2, 4, 8, 16])
    parser.add_argument("--duration", type=float, default=60.0, help="seconds of slider moves per N (default 60)")
    parser.add_argument("--interval", type=float, default=4.0, help="seconds between one learner's moves (4)")
    parser.add_argument("--setup-timeout", type=float, default=600.0, help="seconds for N servers and kernels")
    parser.add_argument("--no-hub-mode", dest="hub_mode", action="store_false",
                        help="kernels without NLS_HUB=1 (the explorer's full background work), to compare")
    parser.add_argument("--write", action="store_true", help="record the table in classroom/capacity.json")
    parser.add_argument("--note", default="", help="what else ran on the machine (recorded)")
    parser.add_argument("--recompute", action="store_true",
                        help="no new measurement: the conclusion and z2jh block again from capacity.json's rows")
    args = parser.parse_args(argv)
    if args.recompute:
        capacity = json.loads(CAPACITY.read_text())
        capacity["conclusion"] = conclusion(capacity["rows"], int(capacity["machine"].split()[0]))
        capacity["z2jh"] = z2jh_resources(capacity)
        CAPACITY.write_text(json.dumps(capacity, indent=2) + "\n")
        print(report(capacity))
        return 0
    if any(n < 1 or n > 64 for n in args.users):
        parser.error(f"--users must be 1..64 each, got {args.users}")
    if args.duration <= 0 or args.interval <= 0:
        parser.error("--duration and --interval must be > 0 seconds")
    rows = []
    print(f"{'N':>3} {'login->idle kernel':>19} {'move p50':>9} {'p95':>6} {'moves':>6} {'failed':>6} "
          f"{'MB/learner':>10} {'hub CPU':>8} {'machine':>8} {'lesson 02':>9}", flush=True)
    with tempfile.TemporaryDirectory(prefix="nls-hub-load-", dir=REPO / "build" if (REPO / "build").is_dir() else None) as tmp:
        for n in args.users:
            r = asyncio.run(run_n(n, args, Path(tmp)))
            rows.append(r)
            lesson = f"{r['lesson02_s']:7.0f} s" if r["lesson02_s"] and not r["lesson02_errors"] else "failed"
            print(f"{n:3d} {r['ready_s_median']:8.1f} s (max {r['ready_s_max']:4.0f}) {r['move_p50_s']:7.2f} s "
                  f"{r['move_p95_s']:5.2f}s {r['moves']:6d} {r['failed']:6d} {r['mb_per_learner']:8.0f} MB "
                  f"{r['hub_cores']:6.2f}  {r['machine_cores']:6.2f}  {lesson:>9}", flush=True)
            for err in r["errors"] + r["lesson02_errors"]:
                print(f"      ! {err}", flush=True)
    cores = os.cpu_count() or 1
    capacity = {"measured": datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
                "machine": machine(), "note": args.note, "hub_mode": args.hub_mode,
                "duration_s": args.duration, "interval_s": args.interval, "rows": rows,
                "conclusion": conclusion(rows, cores)}
    capacity["z2jh"] = z2jh_resources(capacity)
    print(report(capacity), flush=True)
    if args.write:
        CAPACITY.write_text(json.dumps(capacity, indent=2) + "\n")
        print(f"==> {CAPACITY.relative_to(REPO)}")
    return 0 if all(r["failed"] == 0 for r in rows) else 1


if __name__ == "__main__":
    sys.exit(main())
