"""The engine shared by the command line and the language server.

Nothing here imports pygls: the protocol lives in ``server/``.
"""

from importlib import metadata

try:
    __version__ = metadata.version("tiny-agent-trainer")
except metadata.PackageNotFoundError:  # running from a source tree without an install
    __version__ = "0.0.0+source"
