"""The import contracts of pyproject.toml ([tool.importlinter]) cover every module and fail on an upward import or a
cycle. `make test` runs `lint-imports` on the code itself; these show the contracts would catch a change."""

import pkgutil
import tomllib
from pathlib import Path

import grimp
import pytest
from importlinter.configuration import configure
from importlinter.contracts.acyclic_siblings import AcyclicSiblingsContract
from importlinter.contracts.layers import LayersContract

ROOT = Path(__file__).resolve().parent.parent
CONFIG = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["importlinter"]
CONTRACTS = {contract["id"]: contract for contract in CONFIG["contracts"]}
PACKAGES = CONFIG["root_packages"]


def _contract(cls, contract_id):
    options = CONTRACTS[contract_id]
    return cls(name=options["name"], session_options={"root_packages": PACKAGES}, contract_options=options)


@pytest.fixture
def graph():
    configure()  # what `lint-imports` sets up before checking contracts (a timer the checks use)
    return grimp.build_graph(*PACKAGES, cache_dir=None)


def _layer_modules() -> list[set[str]]:
    return [{name.strip() for name in layer.split(":")} for layer in CONTRACTS["layers"]["layers"]]


def test_every_module_is_in_one_layer():
    layers = _layer_modules()
    modules = [
        info.name
        for package in PACKAGES
        for info in pkgutil.walk_packages([str(ROOT / package)], prefix=f"{package}.")
        if not info.ispkg
    ]
    assert len(modules) > 100
    placed = {
        module: [
            i for i, layer in enumerate(layers) for name in layer if module == name or module.startswith(name + ".")
        ]
        for module in modules
    }
    assert {module: where for module, where in placed.items() if len(where) != 1} == {}


def test_the_layers_hold_and_an_upward_import_breaks_them(graph):
    contract = _contract(LayersContract, "layers")
    assert contract.check(graph, verbose=False).kept
    graph.add_import(importer="parts.selectors", imported="sopgate.gate.rules", line_number=1, line_contents="")
    assert not contract.check(graph, verbose=False).kept


def test_there_are_no_cycles_and_a_hidden_one_is_found(graph):
    contract = _contract(AcyclicSiblingsContract, "no-cycles")
    assert contract.check(graph, verbose=False).kept
    # As `sopgate.services` once imported `.tasks` inside a function, while the tasks import the services.
    graph.add_import(importer="sopgate.services", imported="sopgate.tasks", line_number=1, line_contents="")
    assert not contract.check(graph, verbose=False).kept
