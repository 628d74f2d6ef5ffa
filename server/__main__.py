"""``python -P -m server``: the language server over stdio, like ``tiny-agent-trainer serve``."""

from __future__ import annotations

import logging
import sys

from server.server import main

if __name__ == "__main__":
    logging.basicConfig(
        level=logging.INFO, stream=sys.stderr, format="%(levelname)s %(name)s: %(message)s"
    )
    main()
