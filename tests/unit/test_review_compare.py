"""Pure parts of `mlws diff --git`: comparing two sides, the pull-request markdown's size and shape."""

import pytest

from mlws.review.branch_diff import compare
from mlws.review.markdown import LIMIT, MARKER, render


def side(**experiments):
    return {
        name: (
            {"config": value, "error": None, "builds_on": None}
            if not isinstance(value, str)
            else {"config": None, "error": value, "builds_on": None}
        )
        for name, value in experiments.items()
    }


def test_compare_statuses():
    before = side(a={"x": 1}, b={"x": 1}, c={"x": 1}, d="bad", e={"x": 1}, f="old error", g="same")
    after = side(a={"x": 1}, b={"x": 2}, c="now broken", d={"x": 1}, e2={"x": 1}, f="new error", g="same", h={"x": 3})
    result = compare(before, after, {"e2": "e"})
    got = {e["experiment"]: e["status"] for e in result["experiments"]}
    assert got == {"b": "changed", "c": "broken", "d": "fixed", "e2": "renamed", "f": "failing", "h": "added"}
    assert sorted(result["unchanged"]) == ["a", "g"] and result["total"] == 8
    entries = {e["experiment"]: e for e in result["experiments"]}
    assert entries["b"]["changed"] == {"x": [1, 2]} and entries["c"]["error"] == "now broken"
    assert entries["e2"]["renamed_from"] == "e"


def test_compare_deleted_and_new_experiment_against_its_parent():
    before = side(base={"lr": 1, "n": 2}, gone={"lr": 1})
    after = side(base={"lr": 1, "n": 2})
    after["child"] = {"config": {"lr": 3, "n": 2}, "error": None, "builds_on": "base"}
    entries = {e["experiment"]: e for e in compare(before, after)["experiments"]}
    assert entries["gone"]["status"] == "deleted"
    assert entries["child"]["builds_on"] == "base" and entries["child"]["changed"] == {"lr": [1, 3]}


def test_a_rename_to_a_name_that_already_existed_is_not_a_rename():
    before = side(a={"x": 1}, b={"x": 1})
    after = side(b={"x": 2})
    entries = {e["experiment"]: e["status"] for e in compare(before, after, {"b": "a"})["experiments"]}
    assert entries == {"a": "deleted", "b": "changed"}


@pytest.mark.parametrize("n", [600, 6000])
def test_markdown_stays_under_githubs_limit_with_the_marker_first(n):
    after = {
        f"exp_{i:04d}": {"config": {f"k{j}": "v" * 50 + str(i) for j in range(40)}, "error": None, "builds_on": None}
        for i in range(n)
    }
    before = {
        name: {"config": {k: "old" for k in value["config"]}, "error": None, "builds_on": None}
        for name, value in after.items()
    }
    result = {
        "ref": "main",
        "commit": "a" * 40,
        "files": ["conf/x.yaml"],
        "uncommitted": [],
        "notes": [],
        **compare(before, after),
    }
    text = render(result)
    assert text.startswith(MARKER + "\n") and len(text) <= LIMIT
    assert f"**{n}** of {n} experiment(s) differ: {n} changed." in text
    listed = text.count("\n- `exp_")
    if n == 600:
        assert "<details><summary><code>exp_0000</code> — changed, 40 key(s)</summary>" in text  # in full, folded
        assert listed + text.count("<details>") == n  # each named once: in full or on one line
    else:
        assert f"- … and {n - listed - text.count('<details>')} more\n" in text
    assert "_Details cut to fit a comment: `mlws diff --git` prints them all._" in text


def test_markdown_when_nothing_differs():
    result = {
        "ref": "main",
        "commit": "b" * 40,
        "files": [],
        "uncommitted": [],
        "notes": [],
        **compare(side(a={"x": 1}), side(a={"x": 1})),
    }
    assert render(result) == (
        f"{MARKER}\n### mlws: effective configs against `main` (`bbbbbbbbbb`)\n\n"
        "No experiment's effective config changes (1 checked).\n"
    )
