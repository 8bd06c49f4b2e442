"""Features depend one way: the import graph of ``portal/<feature>`` packages has no cycle and goes down the layers.

The graph is read from the source with :mod:`ast`, so an import inside a function counts as much as
one at the top of a module (a function-level import hides a cycle; it does not break it).
docs/architecture.md describes the same layers.
"""
from __future__ import annotations

import ast
from collections import defaultdict
from pathlib import Path

import pytest

PORTAL = Path(__file__).resolve().parents[2] / "portal"

#: The feature packages, lowest layer first. A feature may import the core and the features of lower
#: layers, never a feature of its own layer or above (docs/architecture.md, "Layers").
LAYERS = (
    ("plugins",),  # the plugin seam: hookspecs, the manager, the unit registry, the built-in rules
    ("audit", "units", "tokens", "storage", "home"),
    ("printing",),
    ("auth",),
    ("jobs", "workers"),
    ("mail", "enterprises"),
    ("eligibility", "imports", "api"),
    ("passes", "health"),  # health: registry extracts matched to workers; cards follow through events
    ("selfservice", "verify"),
    ("dashboard",),
    ("scanner", "privacy"),  # privacy: the end-of-pilot erase, which reaches every feature's personal data
    ("testing",),  # fixtures for the tests; nothing in the portal imports it
)
#: Modules of ``portal/`` itself that every feature may use; they import no feature but the plugin seam.
FOUNDATION = ("clock", "config", "db", "errors", "events", "extensions", "forms", "i18n", "messages", "navigation",
              "pagination", "panels", "pdf", "security", "text", "vocabulary")
#: Modules of ``portal/`` that put the features together: the app factory, the wiring, the command line.
COMPOSITION = ("__init__", "cli", "demo", "models", "wiring")


def imported_modules(tree: ast.AST, module: str) -> list[tuple[str, int]]:
    """Return every module ``tree`` (the source of ``module``) imports, anywhere in it, with the line."""
    package = module.rsplit(".", 1)[0]
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found += [(alias.name, node.lineno) for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")
                base = base[:len(base) - node.level + 1]
                target = ".".join([*base, node.module] if node.module else base)
            else:
                target = node.module or ""
            found.append((target, node.lineno))
            # ``from portal import auth`` imports the feature package ``portal.auth``.
            found += [(f"{target}.{alias.name}", node.lineno) for alias in node.names]
    return found


def import_graph(root: Path) -> dict[str, dict[str, list[str]]]:
    """Return {feature: {imported feature: ["path:line", ...]}} for the packages directly under ``root``."""
    features = {path.name for path in root.iterdir() if (path / "__init__.py").is_file()}
    graph: dict[str, dict[str, list[str]]] = {feature: defaultdict(list) for feature in features}
    for feature in features:
        for path in sorted((root / feature).rglob("*.py")):
            relative = path.relative_to(root.parent).with_suffix("")
            module = ".".join(relative.parts)
            for name, line in imported_modules(ast.parse(path.read_text(encoding="utf-8")), module):
                parts = name.split(".")
                where = f"{path.relative_to(root.parent)}:{line}"
                if (len(parts) > 1 and parts[0] == root.name and parts[1] in features and parts[1] != feature
                        and where not in graph[feature][parts[1]]):
                    graph[feature][parts[1]].append(where)
    return {feature: dict(edges) for feature, edges in graph.items()}


def cycles(graph: dict[str, dict]) -> list[list[str]]:
    """Return the groups of features that import each other, directly or not (strongly connected components)."""
    index, low, stack, on_stack, found = {}, {}, [], set(), []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for other in graph.get(node, ()):
            if other not in index:
                visit(other)
                low[node] = min(low[node], low[other])
            elif other in on_stack:
                low[node] = min(low[node], index[other])
        if low[node] == index[node]:
            group = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                group.append(member)
                if member == node:
                    break
            if len(group) > 1:
                found.append(sorted(group))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return found


def _explain(graph, group) -> str:
    return "; ".join(f"{a} -> {b} ({', '.join(graph[a][b][:3])})" for a in group for b in graph[a] if b in group)


# ---------------------------------------------------------------------------
# The portal
# ---------------------------------------------------------------------------

def test_no_feature_imports_another_that_imports_it_back():
    graph = import_graph(PORTAL)
    found = cycles(graph)
    assert found == [], "features import each other: " + " | ".join(_explain(graph, group) for group in found)


def test_every_feature_is_in_a_layer_and_imports_only_lower_layers():
    graph = import_graph(PORTAL)
    rank = {feature: level for level, features in enumerate(LAYERS) for feature in features}
    assert set(graph) == set(rank), "put every feature package in LAYERS (and in docs/architecture.md)"
    upward = [f"{feature} -> {other} ({', '.join(where[:2])})"
              for feature, edges in graph.items() for other, where in edges.items() if rank[other] >= rank[feature]]
    assert upward == []


def test_the_factory_names_every_feature_in_layer_order():
    """portal.FEATURES is the one list the factory reads (models, views, commands, catalogs)."""
    from portal import FEATURES

    features = [feature for layer in LAYERS for feature in layer if feature not in ("plugins", "testing")]
    assert list(FEATURES) == features


def test_the_foundation_imports_no_feature():
    modules = {path.stem for path in PORTAL.glob("*.py")}
    assert modules == set(FOUNDATION) | set(COMPOSITION), "name each module of portal/ in FOUNDATION or COMPOSITION"
    features = {path.name for path in PORTAL.iterdir() if (path / "__init__.py").is_file()} - {"plugins"}
    found = []
    for name in FOUNDATION:
        tree = ast.parse((PORTAL / f"{name}.py").read_text(encoding="utf-8"))
        for imported, line in imported_modules(tree, f"portal.{name}"):
            parts = imported.split(".")
            if len(parts) > 1 and parts[0] == "portal" and parts[1] in features:
                found.append(f"portal/{name}.py:{line} imports {imported}")
    assert found == []


# ---------------------------------------------------------------------------
# The checker itself, on small made-up packages: it must be able to fail
# ---------------------------------------------------------------------------

def _package(root: Path, files: dict[str, str]) -> Path:
    for name, source in files.items():
        path = root / "app" / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(source, encoding="utf-8")
        init = path.parent / "__init__.py"
        if not init.exists():
            init.write_text("", encoding="utf-8")
    (root / "app" / "__init__.py").write_text("", encoding="utf-8")
    return root / "app"


def test_a_cycle_hidden_in_a_function_is_found(tmp_path):
    root = _package(tmp_path, {
        "orders/services.py": "from app.billing.models import Invoice\n",
        "billing/models.py": "class Invoice:\n    pass\n",
        "billing/services.py": "def total():\n    from app.orders import services\n    return services\n",
    })
    graph = import_graph(root)
    assert graph["orders"] == {"billing": ["app/orders/services.py:1"]}
    assert graph["billing"] == {"orders": ["app/billing/services.py:2"]}
    assert cycles(graph) == [["billing", "orders"]]


def test_a_longer_loop_through_relative_and_package_imports_is_found(tmp_path):
    root = _package(tmp_path, {
        "a/views.py": "from app import b\n",
        "b/services.py": "from ..c import models\n",
        "c/models.py": "import app.a.views\n",
        "d/models.py": "from app.a import views\n",  # imports the loop but is not part of it
    })
    graph = import_graph(root)
    assert cycles(graph) == [["a", "b", "c"]]


@pytest.mark.parametrize("source", ["from app.b import x\n", "import app.b.y\n", "from app import b\n",
                                    "def f():\n    from ..b import y\n"])
def test_one_way_imports_are_no_cycle(tmp_path, source):
    root = _package(tmp_path, {"a/m.py": source, "b/x.py": "import os\n", "b/y.py": "x = 1\n"})
    graph = import_graph(root)
    assert list(graph["a"]) == ["b"] and graph["b"] == {} and cycles(graph) == []
