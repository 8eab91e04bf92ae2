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
    out = console()
    for i, step in enumerate(chain):
        value = "—" if step["value"] is None else f"{step['value']:.4f}"
        d = "" if step["delta"] is None else f" ({step['delta']:+.4f})"
        labels = f" [{', '.join(step['labels'])}]" if step["labels"] else ""
        arrow = "  " if i == 0 else "→ "
        out.print(f"{arrow}[bold]run {step['id']}[/bold] {step['experiment'] or '-'}{labels}  "
                  f"{step['metric']}={value}{d}  [dim]{step['description'] or ''}[/dim]", highlight=False)
        changes = step["summary"]
        if i and changes:
            shown = changes[:4] + ([f"… {len(changes) - 4} more"] if len(changes) > 4 else [])
            out.print("     " + "; ".join(shown), highlight=False, soft_wrap=True)
        if step["note"]:
            out.print(f"     note: {step['note'][:200]}", highlight=False)
    return 0


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
        label = f"run {node['id']} {node['experiment'] or '-'} {node['status']}" + \
            (f" {key}={value:.4f}" if isinstance(value, (int, float)) else "")
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
