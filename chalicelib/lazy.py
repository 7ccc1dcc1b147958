"""Modules loaded on first use. Every cold start imports app.py and with it
every route module; a route module names its services with ``lazy`` so that a
Lambda serving one surface never pays to import another surface's services.

A plain proxy rather than importlib's LazyLoader: on Python 3.11 LazyLoader
is not thread-safe, and the local API server is threaded.
"""
from __future__ import annotations

import importlib
from types import ModuleType
from typing import Any


class _LazyModule(ModuleType):
    def __getattr__(self, attribute: str) -> Any:
        # importlib.import_module is thread-safe and returns the cached module after the first call.
        return getattr(importlib.import_module(self.__name__), attribute)


def lazy(name: str) -> ModuleType:
    """A stand-in for module ``name`` that imports it at its first attribute access."""
    return _LazyModule(name)
