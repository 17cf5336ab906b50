"""Runs tasks in worker subprocesses so that a crash or a hang ends one row, not the
sweep: each task has a deadline; a worker past it is killed (the row fails with
"timeout") and a worker that dies fails its row with "crashed"; both are restarted."""
import json
import os
import queue
import select
import subprocess
import sys
import threading
import time

WORKER = os.path.join(os.path.dirname(os.path.abspath(__file__)), "worker.py")
START_SECONDS = 180  # importing torch, torch_pjrt and op_db on a loaded machine
RESTART_EVERY = 400  # tasks; bounds what a long-lived worker accumulates


class Worker:
    def __init__(self, env, log):
        self.proc = subprocess.Popen([sys.executable, WORKER], stdin=subprocess.PIPE,
                                     stdout=subprocess.PIPE, stderr=log, env=env)
        self.buffer = b""
        self.tasks = 0
        if self.read(START_SECONDS) is None:
            self.kill()
            raise RuntimeError("a conformance worker did not start; see the worker log")

    def read(self, timeout):
        """The next answer line, or None on timeout or exit."""
        deadline = time.time() + timeout
        fd = self.proc.stdout.fileno()
        while b"\n" not in self.buffer:
            left = deadline - time.time()
            if left <= 0:
                return None
            ready, _, _ = select.select([fd], [], [], left)
            if not ready:
                continue
            chunk = os.read(fd, 65536)
            if not chunk:
                return None
            self.buffer += chunk
        line, self.buffer = self.buffer.split(b"\n", 1)
        return json.loads(line)

    def run(self, task, timeout):
        self.tasks += 1
        try:
            self.proc.stdin.write((json.dumps(task) + "\n").encode())
            self.proc.stdin.flush()
        except BrokenPipeError:
            return {"state": "fail", "reason": "crashed (worker exited)"}
        answer = self.read(timeout)
        if answer is not None:
            return answer
        if self.proc.poll() is None:
            self.kill()
            return {"state": "fail", "reason": f"timeout (over {timeout:.0f} s)", "seconds": timeout}
        code = self.proc.returncode
        return {"state": "fail", "reason": f"crashed (worker exited with {code})"}

    def alive(self):
        return self.proc.poll() is None

    def kill(self):
        if self.proc.poll() is None:
            self.proc.kill()
        self.proc.wait()

    def close(self):
        try:
            self.proc.stdin.close()
            self.proc.wait(timeout=30)
        except Exception:
            self.kill()


def run_tasks(tasks, *, workers, timeout, env_extra=None, log_path, on_done):
    """Runs every task (dicts with an "id"); calls on_done(task, answer) as each ends,
    from the worker threads (so on_done must be thread-safe)."""
    env = dict(os.environ)
    env.setdefault("TORCH_PJRT_EAGER_MODE", "debug")
    env.update(env_extra or {})
    todo = queue.Queue()
    for task in tasks:
        todo.put(task)
    log = open(log_path, "ab")
    errors = []

    def slot():
        worker = None
        try:
            while True:
                try:
                    task = todo.get_nowait()
                except queue.Empty:
                    break
                if worker is None or not worker.alive() or worker.tasks >= RESTART_EVERY:
                    if worker is not None:
                        worker.close()
                    worker = Worker(env, log)
                answer = worker.run(task, task.get("timeout", timeout))
                if not worker.alive():
                    worker.kill()
                    worker = None
                on_done(task, answer)
        except Exception as e:  # a worker that cannot start stops the sweep loudly
            errors.append(e)
        finally:
            if worker is not None:
                worker.close()

    threads = [threading.Thread(target=slot) for _ in range(workers)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    log.close()
    if errors:
        raise errors[0]
