"""make mutants' own bookkeeping (mutation/mutants.py, docs/testing.md): every equivalent
mutant is listed once, by a name mutmut can give, with a reason; names map back to modules."""
import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "mutation"))

import mutants  # noqa: E402

NAME = re.compile(r"garage\.[a-z_.]+\.x(_[a-z_]+|ǁ[A-Za-z]+ǁ[a-z_]+)__mutmut_[0-9]+")


def test_every_equivalent_is_a_mutant_name_with_a_reason_listed_once():
    lines = [line for line in mutants.EQUIVALENTS.read_text().splitlines() if line and not line.startswith("#")]
    names = [line.split(" ", 1)[0] for line in lines]
    assert all(NAME.fullmatch(name) for name in names), [n for n in names if not NAME.fullmatch(n)]
    assert all(len(line.split(" ", 1)[1]) > 10 for line in lines)
    assert len(set(names)) == len(names)
    assert mutants.equivalents().keys() == set(names)


def test_mutant_names_map_to_their_module_and_function():
    assert mutants._module("garage.services.tickets.x_issue_ticket__mutmut_3") == "garage/services/tickets.py"
    assert mutants._function("garage.services.tickets.x_issue_ticket__mutmut_3") == "issue_ticket"
    assert mutants._function("garage.persistence.portable.xǁPortableStoreǁclose__mutmut_7") == "PortableStore.close"
    assert "garage.persistence.portable.xǁPortableStoreǁclose*" in mutants._globs(mutants.PHASES["services"])


def test_every_scoped_function_exists_undecorated_so_mutmut_mutates_it():
    """mutmut 3 silently skips a decorated function (issue 23: @metrics.counted hid issue_ticket
    and process_exit from the services phase); a renamed function would vanish from it just as
    quietly. @staticmethod / @classmethod are the decorators mutmut handles."""
    import ast

    for phase in mutants.PHASES.values():
        for module, functions in phase.scope.items():
            tree = ast.parse((ROOT / module).read_text())
            defined = {}
            for node in tree.body:
                if isinstance(node, ast.FunctionDef):
                    defined[node.name] = node
                elif isinstance(node, ast.ClassDef):
                    defined.update({f"{node.name}.{f.name}": f for f in node.body if isinstance(f, ast.FunctionDef)})
            for function in functions:
                assert function in defined, f"{module}: {function} is in the scope but not defined"
                decorators = [ast.unparse(d) for d in defined[function].decorator_list]
                assert set(decorators) <= {"staticmethod", "classmethod"}, \
                    f"{module}: {function} is decorated ({decorators}): mutmut would not mutate it"
