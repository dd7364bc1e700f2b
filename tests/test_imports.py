"""The import graph of ``ecg_energy``: no circle, and no import from a lower layer to a higher one.

The layers, from the top, as the code has them (a module may import only from layers below it;
modules on one line are independent of each other):

    cli
    api
    pipeline | sweep                     (the sweep is a leaf: only cli and api import it)
    preflight | results | views | rundir (results.json carries the recommendation)
    config                               (composes each layer's own settings class)
    report                               (the recommendation and the number formats)
    devices | energy
    ops
    models
    data
    ledger | tomlio | quiet | progress | runlock
    fsio | _version
    errors

grimp reads every import, those inside functions too.
"""

from __future__ import annotations

import pytest

grimp = pytest.importorskip("grimp")

LAYERS = (
    ("cli",),
    ("api",),
    ("pipeline", "sweep"),
    ("preflight", "results", "views", "rundir"),
    ("config",),
    ("report",),
    ("devices", "energy"),
    ("ops",),
    ("models",),
    ("data",),
    ("ledger", "tomlio", "quiet", "progress", "runlock"),
    ("fsio", "_version"),
    ("errors",),
)


@pytest.fixture(scope="module")
def graph():
    return grimp.build_graph("ecg_energy", include_external_packages=False)


def _cycles(graph) -> list[list[str]]:
    """Strongly connected components of more than one module (Tarjan, iterative)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []
    counter = 0
    for root in sorted(graph.modules):
        if root in index:
            continue
        work = [(root, iter(sorted(graph.find_modules_directly_imported_by(root))))]
        index[root] = low[root] = counter
        counter += 1
        stack.append(root)
        on_stack.add(root)
        while work:
            node, children = work[-1]
            child = next(children, None)
            if child is not None:
                if child not in index:
                    index[child] = low[child] = counter
                    counter += 1
                    stack.append(child)
                    on_stack.add(child)
                    work.append(
                        (child, iter(sorted(graph.find_modules_directly_imported_by(child))))
                    )
                elif child in on_stack:
                    low[node] = min(low[node], index[child])
                continue
            work.pop()
            if work:
                low[work[-1][0]] = min(low[work[-1][0]], low[node])
            if low[node] == index[node]:
                comp = []
                while True:
                    m = stack.pop()
                    on_stack.discard(m)
                    comp.append(m)
                    if m == node:
                        break
                if len(comp) > 1:
                    found.append(sorted(comp))
    return found


def test_cycle_finder_finds_a_hand_made_circle():
    g = grimp.ImportGraph()
    for m in ("p", "p.a", "p.b", "p.c", "p.d"):
        g.add_module(m)
    g.add_import(importer="p.a", imported="p.b")
    g.add_import(importer="p.b", imported="p.c")
    g.add_import(importer="p.c", imported="p.a")
    g.add_import(importer="p.d", imported="p.a")
    assert _cycles(g) == [["p.a", "p.b", "p.c"]]


def test_no_module_is_on_a_circle(graph):
    assert _cycles(graph) == []


def test_every_module_is_on_a_layer(graph):
    placed = {name for layer in LAYERS for name in layer}
    tops = {m.split(".")[1] for m in graph.modules if m.count(".") >= 1}
    assert tops - placed == set(), "a new module or folder: place it on a layer in LAYERS"


def test_no_import_runs_from_a_lower_layer_to_a_higher_one(graph):
    layers = [grimp.Layer(*names, independent=True) for names in LAYERS]
    illegal = graph.find_illegal_dependencies_for_layers(layers=layers, containers={"ecg_energy"})
    assert sorted(f"{d.importer} -> {d.imported}" for d in illegal) == []


def test_a_hand_made_arrow_back_up_is_found():
    g = grimp.ImportGraph()
    for m in ("p", "p.high", "p.low"):
        g.add_module(m)
    g.add_import(importer="p.low", imported="p.high")
    illegal = g.find_illegal_dependencies_for_layers(layers=["high", "low"], containers={"p"})
    assert sorted(f"{d.importer} -> {d.imported}" for d in illegal) == ["p.low -> p.high"]


def test_only_the_commands_and_the_api_import_the_sweep(graph):
    sweep = graph.find_descendants("ecg_energy.sweep") | {"ecg_energy.sweep"}
    importers = {
        m.split(".")[1]
        for s in sweep
        for m in graph.find_modules_that_directly_import(s)
        if m not in sweep
    }
    assert importers <= {"api", "cli"}
