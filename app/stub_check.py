"""Whether a kata module is still a stub: it raises its task's NotImplementedError (provided).

Stubs raise ``NotImplementedError("task N.M: ...")`` (katas/README.md). The worker (app.main) and
``kata bench`` read a module's source with this one test, without importing it: importing a phase
module registers its agents.
"""

from __future__ import annotations

import ast

# Stubs a worker runs without: while task 2.5's module is a stub, app.main runs task 2.4's
# per-event agent instead (KATA_ENRICHMENT=auto). The kata plugin's fail-fast check skips them.
OPTIONAL_FOR_THE_WORKER = frozenset({"katas/phase2/batching.py"})


def raises_stub_error(source: str, task_id: str) -> bool:
    """Whether ``source`` still has a ``raise NotImplementedError("task <task_id>: ...")``."""
    try:
        tree = ast.parse(source)
    except SyntaxError:
        return False  # not a stub any more; importing it will say what is wrong
    for node in ast.walk(tree):
        if not (isinstance(node, ast.Raise) and isinstance(node.exc, ast.Call)):
            continue
        call = node.exc
        if isinstance(call.func, ast.Name) and call.func.id == "NotImplementedError" and call.args:
            message = call.args[0]
            if isinstance(message, ast.Constant) and str(message.value).startswith(
                f"task {task_id}:"
            ):
                return True
    return False
