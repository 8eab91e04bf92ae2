"""mlws: experiments as code. `mlws.train(["+experiment=model_12"])`, `mlws.runs()`, `mlws.show(1)`.

The API is loaded on first use so `import mlws` stays light.
"""

__version__ = "0.1.0"
from .public import NAMES

# mlws.api exports exactly these; `mlws.NAME` loads the API on first use so `import mlws` stays light
__all__ = list(NAMES)


def load_ipython_extension(ipython) -> None:
    """`%load_ext mlws`: the `%mlws` line magic."""
    from .jupyter.magic import load_ipython_extension as load

    load(ipython)


def __getattr__(name):
    if name in __all__:
        from . import api

        return getattr(api, name)
    raise AttributeError(f"module 'mlws' has no attribute {name!r}")
