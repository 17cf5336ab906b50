"""Target of the torch.backends entry point, so that `import torch` alone
loads the backend.

It lives in its own module because the entry point may run while torch_pjrt
itself is still importing torch (when the user imports torch_pjrt first):
loading this submodule then only needs the package object, not its contents.
"""


def load():
    import torch_pjrt  # noqa: F401  (registration happens on import)
