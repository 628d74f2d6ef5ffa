"""Session-wide set-up shared by every test module.

Triton decides whether its kernels run on the GPU or in its CPU interpreter from
``TRITON_INTERPRET``, and part of that choice is fixed when triton is first imported, which
any test that compiles a model may do. Without a CUDA device the session therefore starts with
the interpreter on, so that tests/test_short_attention.py runs its kernels on the CPU whatever
ran before it. (Nothing else runs Triton kernels without a GPU: torch.compile on the CPU
generates C++.)
"""

from __future__ import annotations

import os

import torch

if not torch.cuda.is_available():
    os.environ.setdefault("TRITON_INTERPRET", "1")
