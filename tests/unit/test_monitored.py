"""The run's monitored keys checked against what its module logs (mlws/training/monitored.py)."""

from mlws.training.monitored import unlogged


def test_a_logged_metric_and_loss_pass():
    assert unlogged({"metric": "val/mse", "mode": "min", "loss": None}, {"val/mse", "train/loss"}) is None


def test_a_metric_the_module_does_not_log_names_the_key_and_what_is_logged():
    problem = unlogged({"metric": "val/loss", "loss": None}, {"val/acc"})
    assert problem.startswith("monitor.metric is 'val/loss', but the model logs val/acc: set monitor.metric=NAME")


def test_a_missing_loss_says_it_may_be_null():
    problem = unlogged({"metric": "val/acc", "loss": "val/loss"}, {"val/acc"})
    assert "monitor.loss=null" in problem
