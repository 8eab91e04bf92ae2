"""A local grid sweep priced so its budget binds: short model_12 trainings at $1 a second."""

TINY = [
    "+experiment=model_12",
    "trainer.max_epochs=1",
    "trainer.limit_train_batches=2",
    "trainer.limit_val_batches=2",
    "logger=none",
]
RATE = ["cost.local_hourly=3600"]  # $1 a second
GRID = "model.lr=0.01,0.02,0.03,0.04,0.05,0.06,0.07"
