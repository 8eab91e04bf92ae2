"""The report's cost frontier: the cheapest run for each level of the key metric."""

from mlws.history.cost_chart import frontier, priced_points


def test_a_run_is_on_the_frontier_when_no_cheaper_run_did_as_well():
    points = [(1, 5.0, 0.90), (2, 2.0, 0.80), (3, 3.0, 0.70), (4, 8.0, 0.95), (5, 9.0, 0.93), (6, 2.0, 0.85)]
    assert frontier(points, "max") == [(6, 2.0, 0.85), (1, 5.0, 0.90), (4, 8.0, 0.95)]
    losses = [(1, 1.0, 0.5), (2, 2.0, 0.6), (3, 3.0, 0.2)]
    assert frontier(losses, "min") == [(1, 1.0, 0.5), (3, 3.0, 0.2)]
    assert frontier([], "max") == []


def test_only_priced_runs_with_the_metric_are_drawn():
    runs = [
        {"id": 1, "metrics": {"m": 0.5}},
        {"id": 2, "metrics": {"m": 0.6}},
        {"id": 3, "metrics": {}},
        {"id": 4, "metrics": {"m": "nan?"}},
    ]
    costs = {1: {"usd": 2.0}, 2: {"usd": None}, 3: {"usd": 1.0}, 4: {"usd": 1.0}}
    assert priced_points(runs, costs, "m") == [(1, 2.0, 0.5)]
