"""``python -P -m server``: the language server over stdio, like ``tiny-agent-trainer serve``."""

from __future__ import annotations

import logging
import sys

from server.launch import serve_stdio

if __name__ == "__main__":
    logging.basicConfig(
        level=logging.INFO, stream=sys.stderr, format="%(levelname)s %(name)s: %(message)s"
    )
    serve_stdio()
