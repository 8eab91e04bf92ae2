"""Which validations a resumed run gives its W&B run again: those no earlier history row holds."""

from mlws.training.wandb_backfill import missing


def test_only_the_validations_w_and_b_never_got_are_logged_again():
    validations = [
        {"time": 1.0, "epoch": 0, "step": 3, "val/loss": 2.2},
        {"time": 2.0, "epoch": 1, "step": 6, "val/loss": 2.1},
        {"time": 3.0, "epoch": 2, "step": 9, "val/loss": 2.0},
    ]
    assert missing(validations, []) == validations  # the killed process wrote out nothing
    history = [{"epoch": 0, "trainer/global_step": 2, "val/loss": 2.2}, {"epoch": 1, "train/loss": 1.0}]
    assert [v["epoch"] for v in missing(validations, history)] == [1, 2]
    other_value = [{"epoch": 1, "val/loss": 9.9}]  # the same epoch of another training is no match
    assert [v["epoch"] for v in missing(validations, other_value)] == [0, 1, 2]
