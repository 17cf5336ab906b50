import atexit
import os
import shutil
import sys
import tempfile

import pytest

sys.path.insert(0, os.path.dirname(__file__))

# Tests never read or fill the user's executable cache: each pytest process
# (and every subprocess it starts, which inherits the variable) uses its own.
_cache_dir = tempfile.mkdtemp(prefix="torch_pjrt_test_cache_")
atexit.register(shutil.rmtree, _cache_dir, ignore_errors=True)
os.environ["TORCH_PJRT_CACHE_DIR"] = _cache_dir

# TORCH_PJRT_TEST_DEVICE=cpu runs the whole suite CPU-against-CPU, which checks
# the tests themselves without the backend.
if os.environ.get("TORCH_PJRT_TEST_DEVICE", "tpu") == "tpu":
    import torch_pjrt  # noqa: F401


@pytest.fixture
def fresh_dynamo():
    """Dynamo's caches emptied before and after: compiled tests see only their own graphs."""
    import torch

    torch.compiler.reset()
    yield
    torch.compiler.reset()
