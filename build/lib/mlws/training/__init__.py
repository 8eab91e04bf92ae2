"""The only place torch and Lightning are imported: build and fit a run from its RunSpec."""
