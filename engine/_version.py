"""The package version, the single source: ``pyproject.toml`` reads it from here.

A plain string rather than ``importlib.metadata``: that import (and the ``email`` package it
pulls in) costs tens of milliseconds on every start of the language server.
"""

__version__ = "0.2.0"
