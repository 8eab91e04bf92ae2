"""mlws lineage RUN | --best METRIC | --all"""

from __future__ import annotations

from .render import console, print_json


def add_arguments(p) -> None:
    p.add_argument("run_id", type=int, nargs="?")
    p.add_argument("--best", metavar="METRIC", help="the chain that leads to the best run by METRIC")
    p.add_argument("--min", action="store_true", help="with --best: lower is better (default: by metric name)")
    p.add_argument("--all", action="store_true", help="the tree of all runs")
    p.add_argument("--json", action="store_true")


def run(args) -> int:
    from mlws import api

    if args.all:
        nodes = api.lineage_tree()
        if args.json:
            print_json(nodes)
        else:
            console().print(_tree(nodes) if nodes else "no runs yet")
        return 0
    chain = api.lineage(args.run_id, best=args.best, mode="min" if args.min else None)
    if args.json:
        print_json(chain)
        return 0
    console().print(chain_view(chain))
    from .replicates_render import best_lines

    for line in best_lines(chain[-1].get("best_groups") if chain else None):
        console().print(line, highlight=False, markup=False, soft_wrap=True)
    if chain and chain[-1].get("cumulative"):
        total = chain[-1]["cumulative"]
        from mlws.spend.reckon import duration, money

        console().print(
            f"  total to reach run {chain[-1]['id']}: {money(total['usd'], total['hours'])} "
            f"({duration(total['hours'])} over {total['runs']} run{'s' if total['runs'] != 1 else ''})",
            highlight=False,
            markup=False,
        )
    return 0


def cost_text(step: dict) -> str:
    """`cost $0.12 · $0.45 to reach (7 runs)`: the run's own, then every run on the way to it."""
    from mlws.spend.reckon import money

    own, total = step["cost"], step.get("cumulative") or {}
    text = f"{'time' if own.get('usd') is None else 'cost'} {money(own.get('usd'), own.get('hours'))}"
    if total:
        unpriced = total["runs"] - total["priced"] if total["usd"] is not None else 0
        text += (
            f" · {money(total['usd'], total['hours'])} to reach ({total['runs']} run{'s' if total['runs'] != 1 else ''}"
            + (f", {unpriced} without a price" if unpriced else "")
            + ")"
        )
    return text


SHOWN_CHANGES = 4


def chain_view(chain: list[dict]):
    """The chain as a grid: the arrow in its own column, so every wrapped line (a long description,
    a change) stays indented under its run instead of going back to column 0."""
    from rich.console import Group
    from rich.padding import Padding
    from rich.table import Table
    from rich.text import Text

    grid = Table.grid(padding=(0, 0))
    grid.add_column(width=2, no_wrap=True)
    grid.add_column()
    from .replicates_render import step_lines

    for i, step in enumerate(chain):
        if (step.get("replicates") or {}).get("same_group_as_previous"):
            continue  # the same replicate group as the step shown before it: one step
        value = "—" if step["value"] is None else f"{step['value']:.4f}"
        d = "" if step["delta"] is None else f" ({step['delta']:+.4f})"
        labels = f" [{', '.join(step['labels'])}]" if step["labels"] else ""
        head = Text.assemble(
            (f"run {step['id']}", "bold"), f" {step['experiment'] or '-'}{labels}  ", f"{step['metric']}={value}{d}"
        )
        parts = [head]
        if step["description"]:
            parts.append(Padding(Text(step["description"], style="dim"), (0, 0, 0, 2)))
        if "data" in step and (i == 0 or step.get("data_digest") != chain[i - 1].get("data_digest")):
            # the data of the chain's first run, then again where it changes (also a change listed below)
            parts.append(Padding(Text(f"data: {step['data']}", style="dim"), (0, 0, 0, 2)))
        changes = step["summary"]
        if i and changes:
            listed = Table.grid(padding=(0, 0))
            listed.add_column(width=2, no_wrap=True)
            listed.add_column()
            for change in changes[:SHOWN_CHANGES]:
                listed.add_row("· ", Text(change))
            if len(changes) > SHOWN_CHANGES:
                more = len(changes) - SHOWN_CHANGES
                listed.add_row(
                    "… ",
                    Text(
                        f"{more} more key{'s' if more != 1 else ''}: mlws diff {chain[i - 1]['id']} {step['id']}",
                        style="dim",
                    ),
                )
            parts.append(Padding(listed, (0, 0, 0, 2)))
        if step.get("cost"):
            parts.append(Padding(Text(cost_text(step), style="dim"), (0, 0, 0, 2)))
        parts += [Padding(Text(line), (0, 0, 0, 2)) for line in step_lines(step)]
        if step["note"]:
            parts.append(Padding(Text(f"note: {step['note'][:200]}"), (0, 0, 0, 2)))
        grid.add_row("  " if i == 0 else "→ ", Group(*parts))
    return grid


def _tree(nodes: list[dict]):
    from rich.tree import Tree

    root = Tree("runs")
    branches, children = {}, {}
    for n in nodes:
        children.setdefault(n["parent"], []).append(n)

    def add(parent_branch, node):
        from mlws.keymetric import monitor_of

        key = monitor_of(node)["metric"]
        value = (node["metrics"] or {}).get(key) if key else None
        label = f"run {node['id']} {node['experiment'] or '-'} {node['status']}" + (
            f" {key}={value:.4f}" if isinstance(value, (int, float)) else ""
        )
        if node["labels"]:
            label += f" [{', '.join(node['labels'])}]"
        branch = parent_branch.add(label)
        branches[node["id"]] = branch
        for child in children.get(node["id"], []):
            add(branch, child)

    known = {n["id"] for n in nodes}
    for n in nodes:
        if n["parent"] is None or n["parent"] not in known:
            add(root, n)
    return root
