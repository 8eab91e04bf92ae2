"""W&B runs online with credentials, offline without, and WANDB_MODE wins over both."""

import pytest

from mlws.training.wandb_mode import resolve_mode


@pytest.fixture
def no_creds(tmp_path, monkeypatch):
    for key in ("WANDB_API_KEY", "WANDB_MODE", "WANDB_BASE_URL"):
        monkeypatch.delenv(key, raising=False)
    monkeypatch.setenv("NETRC", str(tmp_path / "netrc"))
    return tmp_path / "netrc"


def test_offline_without_credentials(no_creds):
    assert resolve_mode("auto") == "offline"


def test_online_with_an_api_key(no_creds, monkeypatch):
    monkeypatch.setenv("WANDB_API_KEY", "x" * 40)
    assert resolve_mode("auto") == "online"


def test_online_after_wandb_login(no_creds):
    no_creds.write_text("machine api.wandb.ai\n  login user\n  password " + "y" * 40 + "\n")
    no_creds.chmod(0o600)
    assert resolve_mode("auto") == "online"


def test_explicit_modes_win(no_creds, monkeypatch):
    assert resolve_mode("disabled") == "disabled"
    monkeypatch.setenv("WANDB_MODE", "offline")
    monkeypatch.setenv("WANDB_API_KEY", "x" * 40)
    assert resolve_mode("auto") == "offline"
