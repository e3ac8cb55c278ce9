"""The house rules of latentkit's code: no import cycle between its modules, Keras (and the
backends) imported only in the model room, the CLI's command modules free of a cycle, and
rooms importing only the rooms below them. Read from the source with ``ast``: nothing runs."""

from __future__ import annotations

import ast
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[1] / "latentkit"
BACKENDS = ("keras", "tensorflow", "jax")
# Which rooms each room may import (besides itself): one way, from the top down. This table is
# the architecture (the docs' architecture page is generated from it); the tests below hold the code
# to it. "" is the package root, whose __init__ sets the GPU allocators before any backend loads.
MAY_IMPORT = {
    "core": set(),
    "store": {"core"},
    "ingest": {"core", "store"},
    "transfer": {"core", "store"},
    # what a job uses while it runs: the GPU allocators and the monitor
    "machine": {"core"},
    "model": {"core", "store", "machine", "transfer"},
    "analysis": {"core", "store", "machine", "model"},
    # what looks at runs from outside: the step table, status, the SLURM chain, the environment
    "pipeline": {"core", "store", "machine", "model"},
    "demo": {"core", "store", "ingest", "model", "machine", "analysis", "pipeline"},
    # what a notebook runs and shows: commands in subprocesses, results from the run's files
    "notebook": {"core", "model", "analysis"},
    "cli": {"", "core", "store", "ingest", "transfer", "machine", "model", "analysis", "pipeline", "demo", "notebook"},
    "": {"machine"},
    "__main__": {"cli"},
}
# The names of the model room that the analysis room may import: none of them hands out a Keras
# object (a run described, a codec's array functions, pictures, specs).
KERAS_FREE = {
    "latentkit.model": {
        "check_picture",
        "grid",
        "save_png",
        "RunModel",
        "read_run",
        "latents_store",
        "stale_latents",
        "Codec",
        "spec_from_dict",
        "load_spec",
    },
    "latentkit.model.opened": {"OpenedRun"},  # a run's spec, store and codec, opened once
    "latentkit.model.runs": {"RunModel", "read_run", "latents_store", "stale_latents", "check_run_folder"},
    "latentkit.model.codec": {"Codec"},
    "latentkit.model.images": {"check_picture", "grid", "save_png", "SOFTWARE"},
    "latentkit.model.spec": {"spec_from_dict", "load_spec"},
    "latentkit.model.flow": {"load_flow"},  # a sampler with numpy in and out
    "latentkit.model.sampling": {"EPS_CLIP", "reparameterize"},  # the formula, numpy by default
    "latentkit.model.likelihood": {"importance_weighted", "trained_likelihood"},  # numpy, a codec's functions in
}

# The analysis room in parts: at its top one module per command, below them the parts each may
# import (besides itself). ``jobs`` chains commands (analyze, attributes and the page; compare
# after analyze); no command imports another.
COMMANDS = {"analyze", "plane", "lattice", "generate", "attributes", "compare", "explore"}
ANALYSIS_PARTS = {
    "generators": set(),
    "measures": {"generators"},
    "report": {"measures", "generators"},
    "stages": {"measures", "generators", "report"},
    "commands": {"stages", "measures", "generators", "report"},
    "jobs": {"commands", "stages", "measures", "generators", "report"},
}


def module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def imports(path: Path, modules: set[str], include_typing: bool = False) -> list[tuple[str, ast.stmt, bool]]:
    """(imported latentkit module or backend, the statement, at module level?) for every import
    that can run: those under ``if TYPE_CHECKING:`` are read by the type checker only."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    package = module_name(path) if path.name == "__init__.py" else module_name(path).rpartition(".")[0]
    typing_only = {
        id(inner)
        for node in ast.walk(tree)
        if isinstance(node, ast.If) and ast.unparse(node.test) in ("TYPE_CHECKING", "typing.TYPE_CHECKING")
        for statement in node.body
        for inner in ast.walk(statement)
    }
    found = []
    for node in ast.walk(tree):
        if id(node) in typing_only and not include_typing:
            continue
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


def graph(include_typing: bool = False) -> tuple[dict[str, set[str]], dict[str, list[tuple[str, ast.stmt, bool]]]]:
    """The package's import graph; ``include_typing``: the type checker's imports too."""
    files = {module_name(p): p for p in PACKAGE.rglob("*.py")}
    edges, raw = {m: set() for m in files}, {}
    for name, path in files.items():
        raw[name] = imports(path, set(files), include_typing)
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
    """Counting the imports only the type checker reads (``if TYPE_CHECKING:``): a cycle there
    still ties the modules together."""
    edges, _ = graph(include_typing=True)
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


def room_edges() -> dict[str, set[str]]:
    """Which rooms import which, from every import in the package (lazy ones too)."""
    edges, _ = graph()
    rooms: dict[str, set[str]] = {}
    for module, targets in edges.items():
        rooms.setdefault(room(module), set()).update(room(t) for t in targets if room(t) != room(module))
    return rooms


def test_the_room_table_is_one_way_and_covers_every_room():
    assert cycles({r: set(targets) for r, targets in MAY_IMPORT.items()}) == []
    assert not [(a, b) for a in MAY_IMPORT for b in MAY_IMPORT[a] if a in MAY_IMPORT[b]]
    assert set(room_edges()) == set(MAY_IMPORT)  # a new room needs its line in the table


def test_rooms_import_only_the_rooms_below_them():
    """The package root, __main__ and the CLI included; lazy imports count as much as the rest."""
    edges, _ = graph()
    wrong = []
    for module, targets in edges.items():
        for target in targets:
            here, there = room(module), room(target)
            if there != here and there not in MAY_IMPORT[here]:
                wrong.append(f"{module} -> {target}")
    assert sorted(wrong) == []


def test_no_two_rooms_import_each_other():
    rooms = room_edges()
    assert sorted((a, b) for a, targets in rooms.items() for b in targets if a < b and a in rooms.get(b, ())) == []


def test_the_layout_test_sees_a_pair_of_rooms_importing_each_other(tmp_path):
    """The checks above on a made-up package: machine importing model back is caught."""
    edges = {
        "latentkit.machine.monitor": {"latentkit.model.encode"},
        "latentkit.model.encode": {"latentkit.machine.monitor"},
    }
    assert cycles(edges) == [["latentkit.machine.monitor", "latentkit.model.encode"]]
    assert "model" not in MAY_IMPORT["machine"]


def test_analysis_imports_no_keras_touching_name_of_the_model_room():
    """The analysis room encodes and decodes through ``latentkit.model.codec``'s array functions:
    it never imports the loader, the networks or the backend."""
    _, raw = graph()
    wrong = []
    for module, found in raw.items():
        if room(module) != "analysis":
            continue
        for target, statement, _ in found:
            if room(target) != "model":
                continue
            names = {alias.name for alias in statement.names} if isinstance(statement, ast.ImportFrom) else {"*"}
            module_of = statement.module if isinstance(statement, ast.ImportFrom) else target
            if names - KERAS_FREE.get(module_of, set()):
                wrong.append(
                    f"{module}:{statement.lineno} imports {sorted(names - KERAS_FREE.get(module_of, set()))} "
                    f"from {module_of}"
                )
    assert wrong == []


# The CLI's command modules, each named for the commands it registers (their docstrings list them).
CLI_COMMAND_MODULES = ("stores", "runs", "analyze", "analysis", "pictures", "machines", "demo")


def test_each_cli_module_names_the_commands_it_registers():
    """A command module's docstring names every command it registers (``latentkit prepare`` in
    stores.py's), and every module of the CLI is a command module or one of the four others."""
    others = {"__init__", "app", "console", "examples", "main"}
    assert {p.stem for p in (PACKAGE / "cli").glob("*.py")} == set(CLI_COMMAND_MODULES) | others
    for name in CLI_COMMAND_MODULES:
        tree = ast.parse((PACKAGE / "cli" / f"{name}.py").read_text(encoding="utf-8"))
        registered = [
            decorator.args[0].value
            for node in tree.body
            if isinstance(node, ast.FunctionDef)
            for decorator in node.decorator_list
            if isinstance(decorator, ast.Call) and decorator.args and isinstance(decorator.args[0], ast.Constant)
        ]
        docstring = ast.get_docstring(tree) or ""
        assert registered and [c for c in registered if f"{c}``" not in docstring] == [], name


def test_a_run_is_opened_one_way_outside_the_model_room():
    """The analysis room, the demo, the notebook and the CLI open a run through ``OpenedRun``
    (its spec, store and codec read once): none of them reads the spec, finds the store or loads
    the model itself."""
    _, raw = graph()
    itself = {"read_run", "latents_store", "stale_latents", "open_codec", "load_model"}
    wrong = [
        f"{module}:{statement.lineno} imports {sorted(names)}"
        for module, found in raw.items()
        if room(module) in ("analysis", "demo", "notebook", "cli")
        for _, statement, _ in found
        if isinstance(statement, ast.ImportFrom)
        and (names := {alias.name for alias in statement.names} & itself)
        and (statement.module or "").startswith("latentkit.model")
    ]
    assert wrong == []


def run_file_names() -> tuple[set[str], set[str]]:
    """(file names, folder names) of a run directory, as ``RunPaths`` and ``AnalysisPaths`` give them."""
    from latentkit.core.paths import BEST_CHECKPOINT, LATEST_CHECKPOINT, PREVIOUS_CHECKPOINT, AnalysisPaths, RunPaths

    run, analysis = RunPaths(Path("RUN")), AnalysisPaths(Path("RUN/analysis"))
    found = [
        getattr(o, name)
        for o in (run, analysis)
        for name in dir(type(o))
        if isinstance(getattr(type(o), name), property)
    ]
    paths = [p for p in found if isinstance(p, Path)] + [
        Path(n) for n in (BEST_CHECKPOINT, LATEST_CHECKPOINT, PREVIOUS_CHECKPOINT)
    ]
    return {p.name for p in paths if p.suffix}, {p.name for p in paths if not p.suffix}


def run_file_literals(source: str, files: set[str], folders: set[str]) -> list[str]:
    """Where ``source`` writes a run file's name itself: the name as a string anywhere (not in a
    docstring), a run folder's name joined with ``/``, or a path into a run's folders."""
    tree = ast.parse(source)
    docstrings = {
        id(node.body[0].value)
        for node in ast.walk(tree)
        if isinstance(node, (ast.Module, ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef))
        and node.body
        and isinstance(node.body[0], ast.Expr)
        and isinstance(node.body[0].value, ast.Constant)
    }
    found = []
    for node in ast.walk(tree):
        joined = isinstance(node, ast.BinOp) and isinstance(node.op, ast.Div) and isinstance(node.right, ast.Constant)
        if joined and node.right.value in folders:
            found.append(f"{node.lineno}: / {node.right.value!r}")
        if not (isinstance(node, ast.Constant) and isinstance(node.value, str)) or id(node) in docstrings:
            continue
        parts = node.value.split("/")
        if parts[-1] in files or (len(parts) > 1 and parts[0] in folders - {""} and parts[-1].endswith(".png")):
            found.append(f"{node.lineno}: {node.value!r}")
    return found


def test_every_file_name_of_a_run_directory_is_written_only_in_run_paths():
    """``RunPaths`` (and its ``AnalysisPaths``) own every file name of a run directory: no other
    module writes "report.json", ``root / "logs"`` or "analysis/coverage.png" itself."""
    files, folders = run_file_names()
    assert {"report.json", "mvn.npz", "latest.npz", "job.toml"} <= files and {"analysis", "logs"} <= folders
    wrong = [
        f"{path.relative_to(PACKAGE.parent)}:{where}"
        for path in sorted(PACKAGE.rglob("*.py"))
        if path != PACKAGE / "core" / "paths.py"
        for where in run_file_literals(path.read_text(encoding="utf-8"), files, folders)
    ]
    assert wrong == []


def test_the_run_file_test_sees_a_name_written_out():
    files, folders = run_file_names()
    source = '"""A docstring may say report.json."""\nx = run / "analysis" / "report.json"\ny = root / "logs"\nz = "analysis/coverage.png"\n'
    assert sorted(run_file_literals(source, files, folders)) == [
        "2: 'report.json'",
        "2: / 'analysis'",
        "3: / 'logs'",
        "4: 'analysis/coverage.png'",
    ]


def analysis_part(module: str) -> str | None:
    parts = module.split(".")
    if room(module) != "analysis" or len(parts) < 3:
        return None
    return "commands" if parts[2] in COMMANDS else parts[2]


def test_the_analysis_room_is_commands_over_measures_generators_and_the_report():
    """Every module of the analysis room is a command or lives in a part; each part imports only
    the parts below it; no command imports another (``jobs`` chains them)."""
    edges, _ = graph()
    modules = [m for m in edges if room(m) == "analysis" and m != "latentkit.analysis"]
    assert {analysis_part(m) for m in modules} == set(ANALYSIS_PARTS)
    assert {m.split(".")[2] for m in modules if analysis_part(m) == "commands"} == COMMANDS
    wrong = []
    for module in modules:
        for target in edges[module]:
            here, there = analysis_part(module), analysis_part(target)
            if there is None or there == here and here != "commands":
                continue
            if here == there == "commands" and module != target:
                wrong.append(f"{module} -> {target} (a command imports a command)")
            elif here != there and there not in ANALYSIS_PARTS[here]:
                wrong.append(f"{module} -> {target}")
    assert sorted(wrong) == []
    assert cycles({part: set(below) for part, below in ANALYSIS_PARTS.items()}) == []


def test_the_command_modules_import_the_app_and_only_the_entry_imports_them():
    edges, _ = graph()
    commands = tuple(f"latentkit.cli.{name}" for name in CLI_COMMAND_MODULES)
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
                shadowing += [
                    f"{init.parent.name}.{a.asname or a.name}" for a in node.names if (a.asname or a.name) in modules
                ]
    assert shadowing == []


def test_every_room_ships_in_the_wheel():
    """pyproject lists the packages by name: a new room left out would be missing from the wheel."""
    import tomllib

    listed = set(tomllib.loads((PACKAGE.parent / "pyproject.toml").read_text())["tool"]["setuptools"]["packages"])
    rooms = {module_name(p) for p in PACKAGE.rglob("__init__.py")}
    assert rooms <= listed, rooms - listed


def test_analyze_is_a_walk_over_its_stages():
    """``analyze()`` opens the cloud and walks ``STAGES`` (at most 40 lines); every stage is a
    function of the one context that returns its own section, and none pops another's key."""
    tree = ast.parse((PACKAGE / "analysis" / "analyze.py").read_text(encoding="utf-8"))
    function = next(n for n in tree.body if isinstance(n, ast.FunctionDef) and n.name == "analyze")
    assert function.end_lineno - function.lineno + 1 <= 40
    assert "STAGES" in ast.unparse(function)
    popped = [
        f"{path.name}:{node.lineno}"
        for path in (PACKAGE / "analysis").rglob("*.py")
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8")))
        if isinstance(node, ast.Call)
        and isinstance(node.func, ast.Attribute)
        and node.func.attr == "pop"
        and "report" in ast.unparse(node.func.value)
    ]
    assert popped == []
