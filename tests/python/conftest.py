import os
import sys

sys.path.insert(0, os.path.dirname(__file__))

# TORCH_PJRT_TEST_DEVICE=cpu runs the whole suite CPU-against-CPU, which checks
# the tests themselves without the backend.
if os.environ.get("TORCH_PJRT_TEST_DEVICE", "tpu") == "tpu":
    import torch_pjrt  # noqa: F401
