"""The test tiers stay as CONTRIBUTING.md lays them out: every test module in unit/, integration/ or
e2e/, shared code only in support/, no test module importing another, and the integration tier
never starting the CLI in a subprocess (that is what makes it the fast lane)."""

import ast
from pathlib import Path

TESTS = Path(__file__).resolve().parents[1]
TIERS = ("unit", "integration", "e2e")


def _imports(path: Path) -> list[str]:
    names = []
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom):
            names.append("." * node.level + (node.module or ""))
        elif isinstance(node, ast.Import):
            names.extend(alias.name for alias in node.names)
    return names


def test_every_test_module_is_in_a_tier():
    loose = [p.name for p in TESTS.glob("test_*.py")]
    assert not loose, f"test modules outside a tier (move them to {', '.join(TIERS)}): {loose}"
    assert not list((TESTS / "support").glob("test_*.py")), "tests/support holds helpers, not tests"


def test_no_test_module_imports_another():
    offenders = [
        f"{p.relative_to(TESTS)} imports {name}"
        for tier in TIERS
        for p in (TESTS / tier).glob("*.py")
        for name in _imports(p)
        if name.rsplit(".", 1)[-1].startswith("test_")
    ]
    assert not offenders, offenders


def test_the_integration_tier_starts_no_cli():
    offenders = [
        p.name
        for p in (TESTS / "integration").glob("test_*.py")
        if "mlws.cli.main" in p.read_text()
        or any(n.endswith("helpers") for n in _imports(p))
        and "mlws(" in p.read_text()
    ]
    assert not offenders, f"drive the CLI from tests/e2e: {offenders}"
