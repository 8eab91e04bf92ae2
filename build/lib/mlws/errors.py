"""Errors meant for the user: the CLI prints their message alone, without a traceback."""


class MlwsError(Exception):
    """Bad input or a state the user can fix; the message says what and where."""

    exit_code = 2


class RunFailed(MlwsError):
    """Training started and raised; the run is recorded as failed."""

    exit_code = 1
