"""SkyPilot: the same worker on a cloud VM, or as a managed job that survives spot preemption.

backend.py is the Backend (plan, launch, status, stop, logs, cp); preflight.py is what a plan and a
launch check first (plan_cache.py keeps a plan's answer), outcome.py reads a finished run's result;
compile.py turns a RunSpec into a task dict (pure, no sky import); only pricing.py (validate, price),
client.py (jobs) and clusters.py (servers, notebooks) import sky, each after skypilot.py; node_setup.py and
node_run.py are what the node runs; servers.py puts a model server or JupyterLab on a VM;
artifacts.py and bucket_stores.py reach run directories kept in a bucket; workdir.py, wheel.py and
torch_wheels.py decide what the node receives.
"""

from .backend import SkyBackend

__all__ = ["SkyBackend"]
