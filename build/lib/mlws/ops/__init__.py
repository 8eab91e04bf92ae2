"""Operations behind `mlws.api`, grouped by domain: runs (train, status, stop, logs, files), history
(labels, notes, search, diff, lineage, rerun, report) and serving. Each opens the registry through
one session per command."""
