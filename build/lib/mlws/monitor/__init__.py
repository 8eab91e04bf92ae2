"""Reading a run's live state from its run directory (no heavy imports): snapshots and warnings."""
