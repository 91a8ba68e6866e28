"""An import-linter contract type: the modules of a package import only the standard library.

import-linter's built-in contracts forbid named modules; "the client library needs nothing
but Python" is a promise about every module there could be, so it gets its own small type:
each import of a listed package must be the package itself or a module of
`sys.stdlib_module_names`. Registered in pyproject.toml (`[tool.importlinter] contract_types`).
"""

from __future__ import annotations

import sys

from grimp import ImportGraph
from importlinter.application import output
from importlinter.domain import fields
from importlinter.domain.contract import Contract, ContractCheck


class StdlibOnlyContract(Contract):
    """Options: `packages`, the packages that may import only themselves and the stdlib;
    `optional_imports`, "importer -> imported" pairs allowed because the importer falls back
    to the standard library when the import fails (each must exist, so a stale entry shows)."""

    type_name = "stdlib_only"

    packages = fields.ListField(subfield=fields.StringField())
    optional_imports = fields.ListField(subfield=fields.StringField(), required=False, default=[])

    def check(self, graph: ImportGraph, verbose: bool) -> ContractCheck:
        optional = {tuple(p.strip() for p in pair.split("->")) for pair in self.optional_imports}  # type: ignore
        broken, seen = [], set()
        for package in self.packages:  # type: ignore[attr-defined]
            for module in sorted(graph.find_descendants(package) | {package}):
                for imported in sorted(graph.find_modules_directly_imported_by(module)):
                    top = imported.split(".")[0]
                    if top == package.split(".")[0] or top in sys.stdlib_module_names:
                        continue
                    if (module, imported) in optional:
                        seen.add((module, imported))
                        continue
                    details = graph.get_import_details(importer=module, imported=imported)
                    lines = ", ".join(str(d["line_number"]) for d in details) or "?"
                    broken.append((module, imported, lines))
        for module, imported in sorted(optional - seen):
            broken.append((module, imported, "none: remove it from optional_imports"))
        return ContractCheck(kept=not broken, metadata={"broken": broken})

    def render_broken_contract(self, check: ContractCheck) -> None:
        for module, imported, lines in check.metadata["broken"]:
            output.print_error(f"{module} imports {imported} (line {lines}), which is not in the "
                               "standard library", bold=False)
            output.new_line()
