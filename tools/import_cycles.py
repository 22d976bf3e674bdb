"""Lists import cycles between rbdpy's modules (exit 1 if there is one).

The import-linter layer contract (pyproject.toml) forbids upward imports between the layers
it names; this check covers every module, listed or not, including imports made only for
type checking. An import ``a -> b`` closes a cycle when grimp finds a chain of imports from
``b`` back to ``a``. Usage: ``.venv/bin/python tools/import_cycles.py``.
"""

from __future__ import annotations

import sys

import grimp


def find_cycles(package: str) -> list[tuple[str, ...]]:
    """One chain per import that closes a cycle: ``(a, b, ..., a)``."""
    graph = grimp.build_graph(package)
    cycles = []
    for importer in sorted(graph.modules):
        for imported in sorted(graph.find_modules_directly_imported_by(importer)):
            back = graph.find_shortest_chain(importer=imported, imported=importer)
            if back is not None:
                cycles.append((importer, *back))
    return cycles


def main() -> int:
    cycles = find_cycles("rbdpy")
    for cycle in cycles:
        print("import cycle:", " -> ".join(cycle))
    print(f"{len(cycles)} imports close a cycle among rbdpy's modules")
    return 1 if cycles else 0


if __name__ == "__main__":
    sys.exit(main())
