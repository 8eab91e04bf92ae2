"""Training: build and fit a run from its RunSpec with Lightning (builder.py), and the callbacks mlws
adds to every run — hardware and metrics recording, media, guards (time, cost, monitored metric),
safetensors weights beside each checkpoint, checkpoints saved whole even when a stop lands.

Lightning is imported only here; torch also in serving/ (loading and predicting) and in the node's
GPU check (compute/sky/nodes.py), each where it is used."""
