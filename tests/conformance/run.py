"""OpInfo conformance sweep of the "tpu" device against CPU.

    python tests/conformance/run.py                 # the full sweep -> conformance/report.{md,json}
    python tests/conformance/run.py --ops add,sin   # a slice (names as name or name.variant)
    python tests/conformance/run.py --core-only --core-ops var.dim,col2im.default  # core probes only

Every (OpInfo, variant, dtype) row ends in one state: native, fallback (passes only with
TORCH_PJRT_CPU_FALLBACK=1), fail or unsupported. See check.py for what a row checks.
"""
import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import threading
import time
import warnings

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

import pool  # noqa: E402
import report  # noqa: E402

ROW_TIMEOUT = 120.0
CORE_TIMEOUT = 60.0
# The first samples of each row: all of them take well over an hour on two shared cores.
DEFAULT_MAX_SAMPLES = 2


class Progress:
    """A progress bar with the time left, on stderr; one line every 30 s when stderr
    is not a terminal."""

    def __init__(self, label, total, quiet=False):
        self.label, self.total, self.done = label, total, 0
        self.start = self.last = time.time()
        self.lock = threading.Lock()
        self.tty = sys.stderr.isatty()
        self.quiet = quiet

    def step(self):
        with self.lock:
            self.done += 1
            now = time.time()
            if self.quiet or (not self.tty and now - self.last < 30 and self.done < self.total):
                return
            self.last = now
            elapsed = now - self.start
            left = elapsed / self.done * (self.total - self.done)
            filled = int(30 * self.done / max(self.total, 1))
            line = (f"{self.label} [{'#' * filled}{'.' * (30 - filled)}] {self.done}/{self.total} "
                    f"elapsed {elapsed / 60:.1f} min, about {left / 60:.1f} min left")
            sys.stderr.write(("\r" + line) if self.tty else (line + "\n"))
            if self.tty and self.done == self.total:
                sys.stderr.write("\n")
            sys.stderr.flush()


def opinfo_rows(op_filter=None, dtype_filter=None):
    """(index in op_db, name, variant, dtype) for every row, and the OpInfos that have
    no dtype among the ten checked."""
    warnings.simplefilter("ignore")
    from torch.testing._internal.common_methods_invocations import op_db

    import check
    rows, without_dtype = [], []
    for index, op in enumerate(op_db):
        full = op.name + (f".{op.variant_test_name}" if op.variant_test_name else "")
        if op_filter is not None and full not in op_filter and op.name not in op_filter:
            continue
        supported = op.supported_dtypes("cpu")
        dtypes = [name for name, dtype in check.DTYPES.items() if dtype in supported]
        if dtype_filter is not None:
            dtypes = [d for d in dtypes if d in dtype_filter]
        if not dtypes:
            without_dtype.append(full)
        for dtype in dtypes:
            rows.append({"index": index, "name": op.name, "variant": op.variant_test_name, "dtype": dtype})
    return rows, without_dtype


def run_pass(label, rows, *, workers, env_extra, log_path, max_samples, quiet):
    tasks = [{"id": i, "kind": "opinfo", "index": r["index"], "dtype": r["dtype"], "max_samples": max_samples}
             for i, r in enumerate(rows)]
    answers = [None] * len(tasks)
    progress = Progress(label, len(tasks), quiet)

    def done(task, answer):
        answers[task["id"]] = answer
        progress.step()

    pool.run_tasks(tasks, workers=workers, timeout=ROW_TIMEOUT, env_extra=env_extra, log_path=log_path,
                   on_done=done)
    return answers


def sweep(op_filter=None, *, dtype_filter=None, workers=2, core=True, core_filter=None, max_samples=None,
          quiet=False, log_path=None):
    """Runs the sweep and returns the report dict (see report.py for its keys)."""
    import torch
    import check
    start = time.time()
    rows, without_dtype = opinfo_rows(op_filter, dtype_filter)
    log_path = log_path or os.path.join(tempfile.gettempdir(), f"conformance-workers-{os.getpid()}.log")

    native = run_pass("native  ", rows, workers=workers, env_extra={"TORCH_PJRT_CPU_FALLBACK": "0"},
                      log_path=log_path, max_samples=max_samples, quiet=quiet)
    results = []
    for row, answer in zip(rows, native):
        state = "native" if answer["state"] == "pass" else answer["state"]
        results.append({"name": row["name"], "variant": row["variant"], "dtype": row["dtype"],
                        "state": state, "reason": answer["reason"],
                        "seconds": answer.get("seconds"), "samples": answer.get("total"),
                        "checked": answer.get("checked")})

    # Rows that failed natively on a missing kernel get a second chance on the CPU fallback.
    retry = [i for i, r in enumerate(results) if r["state"] == "fail" and check.is_not_implemented(r["reason"])]
    fallback = run_pass("fallback", [rows[i] for i in retry], workers=workers,
                        env_extra={"TORCH_PJRT_CPU_FALLBACK": "1"}, log_path=log_path,
                        max_samples=max_samples, quiet=quiet)
    for i, answer in zip(retry, fallback):
        if answer["state"] == "pass":
            results[i]["state"] = "fallback"  # reason keeps the missing native rule
        elif answer["state"] == "unsupported":  # no rule, and none could be written
            results[i]["state"] = "unsupported"
            results[i]["reason"] = answer["reason"]
        else:
            results[i]["reason"] += f" | with CPU fallback: {answer['reason']}"

    core_results = []
    if core:
        core_results = probe_core(workers=workers, log_path=log_path, quiet=quiet, core_filter=core_filter)

    return {
        "torch_version": torch.__version__,
        "seconds": round(time.time() - start, 1),
        "cpu_seconds": round(cpu_seconds(), 1),
        "load_average": os.getloadavg(),
        "workers": workers,
        "max_samples": max_samples,
        "opinfo_without_checked_dtype": without_dtype,
        "opinfo": results,
        "core_aten": core_results,
    }


def cpu_seconds():
    """CPU time of this process and its finished children (the workers)."""
    own, children = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime


def probe_core(*, workers, log_path, quiet, core_filter=None):
    import core_aten
    captures = os.path.join(tempfile.gettempdir(), f"conformance-core-{os.getpid()}.pt")
    env = dict(os.environ, TORCH_PJRT_CPU_FALLBACK="0")
    with open(log_path, "ab") as log:
        subprocess.run([sys.executable, os.path.join(HERE, "core_aten.py"), "capture", captures],
                       check=True, timeout=1800, env=env, stdout=log, stderr=log)
    names = [n for n in core_aten.core_overloads() if core_filter is None or n in core_filter]
    tasks = [{"id": i, "kind": "core", "op": n, "captures": captures} for i, n in enumerate(names)]
    answers = [None] * len(tasks)
    progress = Progress("core    ", len(tasks), quiet)

    def done(task, answer):
        answers[task["id"]] = answer
        progress.step()

    pool.run_tasks(tasks, workers=workers, timeout=CORE_TIMEOUT,
                   env_extra={"TORCH_PJRT_CPU_FALLBACK": "0"}, log_path=log_path, on_done=done)
    os.remove(captures)
    return [{"op": f"aten.{n}", "state": a["state"], "reason": a["reason"]} for n, a in zip(names, answers)]


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--ops", help="comma-separated OpInfo names (name or name.variant); default: all")
    parser.add_argument("--out", default="conformance", help="folder for report.md and report.json")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--max-samples", type=int, default=DEFAULT_MAX_SAMPLES,
                        help="check at most this many samples per row (0: all)")
    parser.add_argument("--no-core", action="store_true", help="skip the core ATen probe")
    parser.add_argument("--core-only", action="store_true", help="only the core ATen probe, no OpInfo rows")
    parser.add_argument("--core-ops", help="comma-separated core overloads to probe (name.overload, "
                        "e.g. var.dim); default: all")
    args = parser.parse_args()
    op_filter = set() if args.core_only else set(args.ops.split(",")) if args.ops else None
    core_filter = set(args.core_ops.split(",")) if args.core_ops else None
    os.makedirs(args.out, exist_ok=True)
    result = sweep(op_filter, workers=args.workers, core=not args.no_core, core_filter=core_filter,
                   max_samples=args.max_samples or None,
                   log_path=os.path.join(args.out, "workers.log"))
    report.write(result, args.out)
    print(report.summary_text(result))


if __name__ == "__main__":
    main()
