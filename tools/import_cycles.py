"""Lists import cycles between rbdpy's modules (exit 1 if there is one).

The import-linter layer contract (pyproject.toml) forbids upward imports between the layers
it names; this check covers every module, listed or not, including imports made only for
type checking. Usage: ``.venv/bin/python tools/import_cycles.py``.
"""

from __future__ import annotations

import sys

import grimp


def find_cycles(package: str) -> list[list[str]]:
    graph = grimp.build_graph(package)
    modules = sorted(graph.modules)
    edges = {m: sorted(graph.find_modules_directly_imported_by(m)) for m in modules}
    # Tarjan's strongly connected components: a component of two or more modules is a cycle.
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    cycles: list[list[str]] = []
    counter = 0

    def visit(start: str) -> None:
        nonlocal counter
        work = [(start, iter(edges[start]))]
        index[start] = low[start] = counter
        counter += 1
        stack.append(start)
        on_stack.add(start)
        while work:
            node, children = work[-1]
            child = next(children, None)
            if child is not None:
                if child not in edges:
                    continue
                if child not in index:
                    index[child] = low[child] = counter
                    counter += 1
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, iter(edges[child])))
                elif child in on_stack:
                    low[node] = min(low[node], index[child])
                continue
            work.pop()
            if work:
                parent = work[-1][0]
                low[parent] = min(low[parent], low[node])
            if low[node] == index[node]:
                component = []
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    component.append(member)
                    if member == node:
                        break
                if len(component) > 1:
                    cycles.append(sorted(component))

    for module in modules:
        if module not in index:
            visit(module)
    return cycles


def main() -> int:
    cycles = find_cycles("rbdpy")
    for cycle in cycles:
        print("import cycle:", " <-> ".join(cycle))
    print(f"{len(cycles)} import cycles among rbdpy's modules")
    return 1 if cycles else 0


if __name__ == "__main__":
    sys.exit(main())
