"""The shape of lpj_report: layers, no import circles, no command imported, small modules.

The import graph is grimp's: every ``import`` and ``from … import`` of the package, those inside
functions included (a deferred import is still a dependency; it only moves the moment it bites).
The layers below are the design of docs/design.md, declared once, here: a module may import
modules of its own layer and of the layers before it, never one of a later layer. Every module
of the package is in exactly one layer and says which in its docstring (``Layer: <name>``).
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

import grimp
import pytest

PACKAGE = "lpj_report"
ROOT = Path(__file__).resolve().parent.parent / PACKAGE
MAX_LINES = 600
#: The only module that may import the ``lpj`` command (``python -m lpj_report``), if it exists.
CLI = f"{PACKAGE}.cli"
MAY_IMPORT_CLI = {f"{PACKAGE}.__main__"}

#: Lowest first. A module imports only modules of its own layer or of an earlier one.
LAYERS: list[tuple[str, str, list[str]]] = [
    ("base", "paths, limits, errors, safe readers, printing rules, statistics — import nothing above",
     ["lpj_report", "paths", "limits", "cli_errors", "readers", "format", "stats", "lineage",
      "plausibility_stats", "terminal", "cache"]),
    ("load", "the codebook and respondent data files: read, parse, check, write",
     ["codebook", "cell_codes", "columns", "sources", "load", "load_csv", "load_xlsx", "write",
      "editrules", "validate"]),
    ("derive", "derived variables and a wave's typed data",
     ["derive", "wave"]),
    ("figures", "the figure registry, the figure table and disclosure control",
     ["figure_registry", "figures", "figure_engine", "targets", "suppression",
      "suppression_families", "suppression_audit", "suppression_lp", "suppression_cache",
      "edition_names"]),
    ("findings", "tests of the findings, comparisons, the build pipeline and its provenance",
     ["finding_registry", "findings", "verify", "pipeline", "provenance", "comparison",
      "edition_numbers"]),
    ("generate", "the reconstruction of a wave and its plausibility",
     ["generate", "generate.assign", "generate.build", "generate.cells", "generate.checks",
      "generate.constraints", "generate.errors", "generate.fill", "generate.latent",
      "generate.missing", "generate.model", "generate.programme", "generate.quota",
      "plausibility"]),
    ("format", "the view model: numbers into printed strings and words",
     ["content", "finding_views", "trend", "design", "chapters", "places"]),
    ("charts", "charts as SVG and PNG, and their file names",
     ["charts", "chart_cache", "chart_checks", "chart_names", "pngs", "figure_charts", "bar_svg"]),
    ("render", "report contexts into HTML, PDF, DOCX, workbook and output files",
     ["report_context", "edition_context", "paired", "render", "print_svg", "pdf_parts", "pdf_pool",
      "pdf_join", "docx", "docx_reference",
      "chart_files", "publish", "output", "workbook", "folders", "verify_report", "plausibility_report"]),
    ("cli", "the commands",
     ["cli", "cli_values", "build", "cached_build", "editions", "diff", "diff_view", "preview",
      "completion"]),
]


def _full(name: str) -> str:
    return name if name == PACKAGE else f"{PACKAGE}.{name}"


LAYER_OF = {_full(m): i for i, (_, _, mods) in enumerate(LAYERS) for m in mods}
LAYER_NAME = {_full(m): layer for layer, _, mods in LAYERS for m in mods}


@pytest.fixture(scope="module")
def graph() -> grimp.ImportGraph:
    # imports for annotations only (``if TYPE_CHECKING:``) are not dependencies at run time
    return grimp.build_graph(PACKAGE, cache_dir=None, exclude_type_checking_imports=True)


def imports_of(graph: grimp.ImportGraph) -> dict[str, set[str]]:
    return {m: set(graph.find_modules_directly_imported_by(m)) for m in graph.modules}


def find_cycle(edges: dict[str, set[str]]) -> list[str] | None:
    """One import circle as ``[a, b, …, a]`` (depth-first search), or None."""
    state: dict[str, int] = {}          # 1: on the current path, 2: done
    path: list[str] = []

    def visit(node: str) -> list[str] | None:
        state[node] = 1
        path.append(node)
        for nxt in sorted(edges.get(node, ())):
            if state.get(nxt) == 1:
                return path[path.index(nxt):] + [nxt]
            if nxt not in state:
                found = visit(nxt)
                if found:
                    return found
        path.pop()
        state[node] = 2
        return None

    for start in sorted(edges):
        if start not in state:
            found = visit(start)
            if found:
                return found
    return None


def _line(graph: grimp.ImportGraph, importer: str, imported: str) -> str:
    details = graph.get_import_details(importer=importer, imported=imported)
    where = ", ".join(f"line {d['line_number']}: {d['line_contents']}" for d in details)
    return f"{importer} → {imported} ({where})"


def test_every_module_is_in_one_layer(graph):
    declared = [_full(m) for _, _, mods in LAYERS for m in mods]
    twice = sorted({m for m in declared if declared.count(m) > 1})
    assert not twice, f"modules in more than one layer: {twice}"
    missing = sorted(set(graph.modules) - set(declared))
    assert not missing, (f"modules in no layer (add them to LAYERS in {Path(__file__).name} and "
                         f"to docs/design.md): {missing}")
    gone = sorted(set(declared) - set(graph.modules))
    assert not gone, f"LAYERS names modules that do not exist: {gone}"


def test_no_import_cycle(graph):
    cycle = find_cycle(imports_of(graph))
    if cycle:
        steps = "\n  ".join(_line(graph, a, b) for a, b in zip(cycle, cycle[1:], strict=False))
        pytest.fail(f"import circle: {' → '.join(cycle)}\n  {steps}")


def test_nothing_imports_the_cli(graph):
    importers = sorted(set(graph.find_modules_that_directly_import(CLI)) - MAY_IMPORT_CLI)
    assert not importers, "modules importing lpj_report.cli:\n  " + "\n  ".join(
        _line(graph, m, CLI) for m in importers)


def test_layers_import_only_downwards(graph):
    wrong = [_line(graph, a, b) + f" [{LAYER_NAME[a]} → {LAYER_NAME[b]}]"
             for a, targets in sorted(imports_of(graph).items()) for b in sorted(targets)
             if a in LAYER_OF and b in LAYER_OF and LAYER_OF[b] > LAYER_OF[a]]
    assert not wrong, ("imports of a later layer (order: "
                       + " → ".join(name for name, _, _ in LAYERS) + "):\n  " + "\n  ".join(wrong))


def _path(module: str) -> Path:
    parts = module.split(".")[1:]
    folder = ROOT.joinpath(*parts)
    return folder / "__init__.py" if folder.is_dir() else folder.with_suffix(".py")


def test_no_module_over_600_lines(graph):
    long = sorted((n, m) for m in graph.modules
                  if (n := len(_path(m).read_text(encoding="utf-8").splitlines())) > MAX_LINES)
    assert not long, f"modules over {MAX_LINES} lines (split them by role): " + ", ".join(
        f"{m} ({n} lines)" for n, m in reversed(long))


def test_docstrings_name_their_layer(graph):
    """The first lines of every module's docstring say its layer, as declared above."""
    wrong = []
    for module in sorted(graph.modules):
        if module == PACKAGE:
            continue
        doc = ast.get_docstring(ast.parse(_path(module).read_text(encoding="utf-8"))) or ""
        head = "\n".join(doc.splitlines()[:15])
        found = re.search(r"^Layer: (\w+)", head, re.M)
        if not found or found.group(1) != LAYER_NAME.get(module):
            wrong.append(f"{module}: says {found.group(1) if found else 'nothing'}, "
                         f"declared {LAYER_NAME.get(module)}")
    assert not wrong, "module docstrings without their layer (a line 'Layer: <name>'):\n  " + \
        "\n  ".join(wrong)


def test_find_cycle_finds_a_cycle():
    """The cycle search itself: a circle is found and printed in order, a tree is not one."""
    assert find_cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}}) == ["a", "b", "c", "a"]
    assert find_cycle({"a": {"b", "c"}, "b": {"c"}, "c": set()}) is None
