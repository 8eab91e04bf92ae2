"""`mlws init`'s files: what it writes, that it never overwrites, its warnings and refusals."""
import pytest
import yaml

from mlws.errors import MlwsError
from mlws.scaffold import init


def test_init_writes_a_workspace_that_points_at_the_users_classes(tmp_path):
    (tmp_path / "acme").mkdir()
    (tmp_path / "acme" / "__init__.py").write_text("")
    (tmp_path / "acme" / "model.py").write_text("")
    (tmp_path / ".gitignore").write_text("*.pyc")
    out = init(tmp_path, model="acme.model.Net", data="acme.model.Data", metric="val/acc", mode="max")
    assert out["name"] == "acme" and out["warnings"] == [] and out["next"] == "mlws train +experiment=acme_01"
    root = yaml.safe_load((tmp_path / "conf" / "config.yaml").read_text())
    assert root["defaults"][:3] == [{"model": "acme"}, {"data": "acme"}, {"trainer": "default"}]
    assert root["monitor"] == {"metric": "val/acc", "mode": "max", "loss": None, "hardware_interval_s": 2.0}
    assert yaml.safe_load((tmp_path / "conf" / "model" / "acme.yaml").read_text()) == {"_target_": "acme.model.Net"}
    assert (tmp_path / "experiments" / "acme_01.yaml").read_text().startswith("# @package _global_")
    assert (tmp_path / ".gitignore").read_text() == "*.pyc\nruns/\n.mlws/\n"


def test_init_never_overwrites_and_says_which_files(tmp_path):
    init(tmp_path, name="m")
    (tmp_path / "conf" / "model" / "m.yaml").write_text("_target_: mine.Net\nlr: 0.1\n")
    with pytest.raises(MlwsError, match="not overwriting conf/config.yaml, conf/model/m.yaml"):
        init(tmp_path, name="m")
    assert "lr: 0.1" in (tmp_path / "conf" / "model" / "m.yaml").read_text()
    init(tmp_path, name="m", force=True)
    assert "lr" not in (tmp_path / "conf" / "model" / "m.yaml").read_text()


@pytest.mark.parametrize("kwargs, message", [
    ({"model": "Net"}, "expected a dotted path to a class"),
    ({"name": "my model"}, "use letters, digits"),
    ({"mode": "best"}, "--mode must be min or max"),
])
def test_bad_input_is_refused_before_writing(tmp_path, kwargs, message):
    with pytest.raises(MlwsError, match=message):
        init(tmp_path, **kwargs)
    assert list(tmp_path.iterdir()) == []


def test_a_module_that_is_not_there_yet_is_a_warning(tmp_path):
    out = init(tmp_path, model="nowhere_pkg.model.Net", data="json.Decoder")  # json: found on the path
    assert len(out["warnings"]) == 1 and "no module nowhere_pkg.model" in out["warnings"][0]
    assert (tmp_path / "conf" / "config.yaml").exists()
