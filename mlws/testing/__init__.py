"""Test suites that ship with mlws, for code written against its contracts (needs pytest).

    from mlws.testing import BackendTestSuite

    class TestMyBackend(BackendTestSuite):
        overrides = ("compute=mine",)
        backend_name = "mine"
        bad_overrides = ("compute.nodes=0",)
        bad_message = "compute.nodes: must be >= 1"

Only test code imports this package: it imports pytest.
"""

from .backend_suite import BackendTestSuite

__all__ = ["BackendTestSuite"]
