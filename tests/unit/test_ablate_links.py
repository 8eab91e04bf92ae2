"""A changed key whose value interpolates another changed key cannot be reverted alone: `mlws ablate`
makes them one change (before, `T_max: ${trainer.max_epochs}` was ablated on its own: the
leave-one-out of the epochs kept T_max at the run's value, a config no one would write)."""

from __future__ import annotations

import pytest

from mlws.errors import MlwsError
from mlws.ops.ablate import step_changes
from mlws.ops.ablate_links import linked, references

PARENT = {"seed": 1, "trainer": {"max_epochs": 15}, "model": {"lr": 0.1, "scheduler": {"T_max": 15}}}
RUN = {"seed": 1, "trainer": {"max_epochs": 25}, "model": {"lr": 0.01, "scheduler": {"T_max": 25}}}
RAW = {
    "trainer.max_epochs": 25,
    "model.lr": 0.01,
    "model.scheduler.T_max": "${trainer.max_epochs}",
    "model.warmup": "${mul:${trainer.max_epochs},2}",
    "paths.home": "${oc.env:HOME}",
    "paths.list": ["${model.lr}", 3],
}


def test_references_are_the_node_paths_a_value_interpolates():
    refs = references(RAW)
    assert refs == {
        "model.scheduler.T_max": {"trainer.max_epochs"},
        "model.warmup": {"trainer.max_epochs"},
        "paths.list": {"model.lr"},
    }


def test_an_interpolated_key_is_one_change_with_its_source():
    changes = step_changes(PARENT, RUN, refs=references(RAW))
    assert [c["change"] for c in changes] == ["model.scheduler.T_max+trainer.max_epochs", "model.lr"]
    assert changes[0]["linked"] == ["model.scheduler.T_max interpolates trainer.max_epochs"]
    assert set(changes[0]["keys"]) == {"model.scheduler.T_max", "trainer.max_epochs"}
    # without the unresolved config (the old behaviour) they were three separate changes
    assert len(step_changes(PARENT, RUN)) == 3


def test_a_whole_node_interpolated_links_every_changed_key_under_it():
    refs = {"model.scheduler.T_max": {"trainer"}}
    assert linked(["model.lr", "model.scheduler.T_max", "trainer.max_epochs"], refs) == [
        {
            "keys": ["model.scheduler.T_max", "trainer.max_epochs"],
            "why": ["model.scheduler.T_max interpolates trainer.max_epochs"],
        }
    ]
    assert linked(["model.lr", "trainer.max_epochs"], refs) == []  # the follower did not change


def test_a_linked_key_joins_the_group_its_source_is_in_and_groups_cannot_split_them():
    refs = references(RAW)
    grouped = step_changes(PARENT, RUN, groups=["trainer.max_epochs,model.lr"], refs=refs)
    assert [c["change"] for c in grouped] == ["trainer.max_epochs+model.lr"]
    assert set(grouped[0]["keys"]) == {"trainer.max_epochs", "model.lr", "model.scheduler.T_max"}
    with pytest.raises(MlwsError, match="model.scheduler.T_max interpolates trainer.max_epochs: these keys change"):
        step_changes(PARENT, RUN, groups=["trainer.max_epochs", "model.scheduler"], refs=refs)
