"""The node contract: what a backend writes is what the worker reads back."""

from mlws import node_env


def test_what_a_backend_writes_the_worker_reads():
    env = node_env.for_worker(run_id=7, run_dir="/node/runs/7", spec_json="{}")
    assert node_env.is_remote(env) and node_env.run_id(env) == "7"
    assert node_env.run_dir("/laptop/runs/7", env) == "/node/runs/7" and node_env.spec_json(env) == "{}"
    assert node_env.run_dir("/laptop/runs/7", {}) == "/laptop/runs/7" and not node_env.is_remote({})


def test_a_sqlite_registry_is_opened_only_where_the_backend_says_the_disk_is_shared():
    sqlite = "sqlite:////ws/.mlws/registry.db"
    assert node_env.shared_registry_url(node_env.for_worker(registry_url=sqlite)) is None
    assert node_env.shared_registry_url(node_env.for_worker(registry_url=sqlite, registry_shared=True)) == sqlite
    server = "postgresql://team@db/mlws"
    assert node_env.shared_registry_url(node_env.for_worker(registry_url=server)) == server
    assert node_env.shared_registry_url(node_env.for_worker()) is None


def test_the_price_reaches_the_node_and_is_absent_elsewhere():
    assert node_env.billing(node_env.billing_env(6.12, launched_at=1000.4)) == (6.12, 1000.0)
    assert node_env.billing(node_env.billing_env(6.12)) == (6.12, None)
    assert node_env.billing({}) is None


def test_rank_zero_is_the_first_process_of_the_first_node():
    assert node_env.is_rank_zero({}) and node_env.is_rank_zero({"NODE_RANK": "0", "LOCAL_RANK": "0"})
    assert not node_env.is_rank_zero({"NODE_RANK": "1"}) and not node_env.is_rank_zero({"LOCAL_RANK": "2"})


def test_a_vm_in_another_region_is_billed_at_that_regions_price():
    env = node_env.billing_env(2.0, launched_at=1000, region_prices={"AWS/us-east-1": 2.0, "AWS/eu-west-1": 3.5})
    here = lambda region: {**env, "SKYPILOT_CLUSTER_INFO": f'{{"cloud": "AWS", "region": "{region}"}}'}
    assert node_env.billing(here("eu-west-1")) == (3.5, 1000.0)
    assert node_env.billing(here("us-east-1")) == (2.0, 1000.0)
    assert node_env.billing(here("ap-south-1")) == (2.0, 1000.0)  # not in the table: the launch's price
    assert node_env.billing({**env, "SKYPILOT_CLUSTER_INFO": "not json"}) == (2.0, 1000.0)
