"""mlws's building blocks (trainer, logger, callbacks, compute, serve, the value ranges), found by
Hydra at `pkg://mlws.conf`: a workspace's conf/ holds only what it adds or overrides, and its
files win over these when they have the same name."""
