"""The house rules of latentkit's code: no import cycle between its modules, Keras (and the
backends) imported only in the model room, the CLI's command modules free of a cycle, and
rooms importing only the rooms below them. Read from the source with ``ast``: nothing runs."""

from __future__ import annotations

import ast
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[1] / "latentkit"
BACKENDS = ("keras", "tensorflow", "jax")
# Which rooms each room may import (besides itself); the CLI may import everything.
MAY_IMPORT = {
    "core": set(),
    "store": {"core"},
    "ingest": {"core", "store"},
    "transfer": {"core", "store"},
    # machine has two floors: allocators and monitor (what jobs use, re-exported by its
    # __init__) under model; env, status and slurm (imported by name) read what model writes.
    "machine": {"core", "store", "model"},
    "model": {"core", "store", "machine", "transfer"},
    "analysis": {"core", "store", "model"},
    "demo": {"core", "store", "ingest", "model", "machine", "analysis"},
    # what a notebook runs and shows: commands in subprocesses, results from the run's files
    "notebook": {"core", "model", "analysis"},
}


def module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def imports(path: Path, modules: set[str]) -> list[tuple[str, ast.stmt, bool]]:
    """(imported latentkit module or backend, the statement, at module level?) for every import."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    package = module_name(path) if path.name == "__init__.py" else module_name(path).rpartition(".")[0]
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            targets = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")[: len(package.split(".")) - (node.level - 1)]
                base = ".".join(anchor + ([base] if base else []))
            targets = [f"{base}.{alias.name}" if f"{base}.{alias.name}" in modules else base for alias in node.names]
        else:
            continue
        for target in targets:
            found.append((target, node, node in tree.body))
    return found


def graph() -> tuple[dict[str, set[str]], dict[str, list[tuple[str, ast.stmt, bool]]]]:
    files = {module_name(p): p for p in PACKAGE.rglob("*.py")}
    edges, raw = {m: set() for m in files}, {}
    for name, path in files.items():
        raw[name] = imports(path, set(files))
        for target, _, _ in raw[name]:
            while target and target not in files:
                target = target.rpartition(".")[0]
            # a package importing its own modules to re-export them is not a cycle of design
            if target and target != name and not target.startswith(name + "."):
                edges[name].add(target)
    return edges, raw


def cycles(edges: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components with more than one module (Tarjan, iterative)."""
    index, low, on, stack, found, counter = {}, {}, set(), [], [], [0]
    for root in edges:
        if root in index:
            continue
        work = [(root, iter(sorted(edges[root])))]
        index[root] = low[root] = counter[0]
        counter[0] += 1
        stack.append(root)
        on.add(root)
        while work:
            node, children = work[-1]
            child = next(children, None)
            if child is not None:
                if child not in index:
                    index[child] = low[child] = counter[0]
                    counter[0] += 1
                    stack.append(child)
                    on.add(child)
                    work.append((child, iter(sorted(edges[child]))))
                elif child in on:
                    low[node] = min(low[node], index[child])
                continue
            work.pop()
            if work:
                low[work[-1][0]] = min(low[work[-1][0]], low[node])
            if low[node] == index[node]:
                component = []
                while True:
                    member = stack.pop()
                    on.discard(member)
                    component.append(member)
                    if member == node:
                        break
                if len(component) > 1:
                    found.append(sorted(component))
    return found


def room(module: str) -> str:
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else ""


def test_the_cycle_finder_finds_a_cycle_and_passes_a_chain():
    assert cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]
    assert cycles({"a": {"b"}, "b": {"c"}, "c": set()}) == []


def test_no_import_cycle_between_latentkit_modules():
    edges, _ = graph()
    assert len(edges) > 50  # the whole package was read
    assert cycles(edges) == []


def test_every_module_lives_in_a_room():
    loose = sorted(p.name for p in PACKAGE.glob("*.py") if p.name not in ("__init__.py", "__main__.py"))
    assert loose == []


def test_keras_and_the_backends_are_imported_only_in_the_model_room():
    _, raw = graph()
    outside = []
    for module, found in raw.items():
        for target, statement, top_level in found:
            if target.split(".")[0] not in BACKENDS or room(module) == "model":
                continue
            if room(module) == "cli" and not top_level:
                continue  # a command body that calls into the model room
            outside.append(f"{module}:{statement.lineno} imports {target}")
    assert outside == []


def test_rooms_import_only_the_rooms_below_them():
    edges, _ = graph()
    wrong = []
    for module, targets in edges.items():
        here = room(module)
        if here in ("", "__main__", "cli"):
            continue
        for target in targets:
            there = room(target)
            if there and there != here and there not in MAY_IMPORT[here]:
                wrong.append(f"{module} -> {target}")
    assert sorted(wrong) == []


def test_the_command_modules_import_the_app_and_only_the_entry_imports_them():
    edges, _ = graph()
    commands = ("latentkit.cli.pipeline", "latentkit.cli.around", "latentkit.cli.study")
    for command in commands:
        assert "latentkit.cli.app" in edges[command]
        assert not edges[command] & set(commands)
    importers = {m for m, targets in edges.items() for c in commands if c in targets}
    assert importers == {"latentkit.cli.main"}
    assert not edges["latentkit.cli.app"] & {*commands, "latentkit.cli.main"}


def test_a_room_never_re_exports_a_name_that_is_also_one_of_its_modules():
    """``from latentkit.model import encode`` would give the function and hide the module
    (``import latentkit.model.encode as m`` too): such names are imported from their module."""
    shadowing = []
    for init in PACKAGE.glob("*/__init__.py"):
        modules = {p.stem for p in init.parent.glob("*.py")} - {"__init__"}
        for node in ast.parse(init.read_text(encoding="utf-8")).body:
            if isinstance(node, ast.ImportFrom) and node.module != f"latentkit.{init.parent.name}":
                shadowing += [f"{init.parent.name}.{a.asname or a.name}" for a in node.names
                              if (a.asname or a.name) in modules]
    assert shadowing == []


def test_every_room_ships_in_the_wheel():
    """pyproject lists the packages by name: a new room left out would be missing from the wheel."""
    import tomllib

    listed = set(tomllib.loads((PACKAGE.parent / "pyproject.toml").read_text())["tool"]["setuptools"]["packages"])
    rooms = {module_name(p) for p in PACKAGE.rglob("__init__.py")}
    assert rooms <= listed, rooms - listed
