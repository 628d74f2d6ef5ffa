"""The engine shared by the command line and the language server.

Nothing here imports pygls: the protocol lives in ``server/``.
"""

from engine._version import __version__

__all__ = ["__version__"]
