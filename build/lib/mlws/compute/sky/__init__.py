"""SkyPilot: the same worker on a cloud VM, or as a managed job that survives spot preemption.

compile.py is pure (no sky import); client.py is the only module that imports sky.
"""
from .backend import SkyBackend

__all__ = ["SkyBackend"]
