"""A worker process: reads one JSON task per line on stdin, answers one JSON line per
task on its original stdout. Ops may print or crash; the parent (pool.py) restarts a
worker that dies or hangs and records the row as failed."""
import json
import os
import sys
import time
import warnings

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))


def main():
    answers = os.fdopen(os.dup(1), "w", buffering=1)
    # Whatever an op prints goes to stderr, so it can't corrupt the answers.
    os.dup2(2, 1)
    warnings.simplefilter("ignore")
    import torch
    import torch_pjrt  # noqa: F401
    from torch.testing._internal.common_methods_invocations import op_db

    import check
    import core_aten

    answers.write(json.dumps({"ready": True}) + "\n")
    for line in sys.stdin:
        task = json.loads(line)
        start = time.time()
        if task["kind"] == "opinfo":
            op = op_db[task["index"]]
            state, reason, checked, total = check.check_row(op, task["dtype"], task.get("max_samples"))
            answer = {"state": state, "reason": reason, "checked": checked, "total": total}
        elif task["kind"] == "core":
            state, reason = core_aten.probe(task["op"], task["captures"])
            answer = {"state": state, "reason": reason}
        else:
            answer = {"state": "fail", "reason": f"unknown task kind {task['kind']}"}
        answer["id"] = task["id"]
        answer["seconds"] = round(time.time() - start, 3)
        answer["fallbacks"] = torch_pjrt.metrics().get("cpu_fallbacks", 0)
        answers.write(json.dumps(answer) + "\n")


if __name__ == "__main__":
    main()
