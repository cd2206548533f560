"""Dead constructs in a record's Python source, found by parsing it with ``ast`` (never executing it).

The five constructs match the config switches of ``[dead_code]`` (``jaxsynth.grammar.config.DeadCode``):

- ``zero_trip_loops``: ``lax.fori_loop(a, b, ...)`` with literal ``b <= a``, or a while loop whose
  condition is ``state[0] < n`` with ``n <= 0`` (the renderer's trip counter starts at 0);
- ``unused_params``: a parameter of a nested ``def`` (a body), or a name it unpacks from a parameter,
  that the body never reads; names starting with ``_`` are deliberate (``def body(_, carry)``);
- ``identical_select``: ``jnp.where(c, x, x)`` / ``lax.select(c, x, x)``;
- ``reduce_broadcast``: ``jnp.broadcast_to`` of a full reduction (``jnp.mean(x)``, ``x.max()``), directly
  or through a name assigned in the same function;
- ``single_use_temporaries``: ``v = ...`` whose only read is the ``return v`` right after it (a value
  named before ``return v, w`` keeps a long tuple readable and is not counted).
"""

from __future__ import annotations

import ast
from collections import Counter

__all__ = ["DEAD_CONSTRUCTS", "dead_constructs"]

DEAD_CONSTRUCTS: tuple[str, ...] = (
    "zero_trip_loops", "unused_params", "identical_select", "reduce_broadcast", "single_use_temporaries",
)
_REDUCERS = frozenset({"sum", "mean", "max", "min", "prod", "any", "all"})


def _dotted(node: ast.expr) -> str:
    if isinstance(node, ast.Name):
        return node.id
    if isinstance(node, ast.Attribute):
        return f"{_dotted(node.value)}.{node.attr}"
    return ""


def _number(node: ast.expr) -> float | None:
    if isinstance(node, ast.Constant) and isinstance(node.value, int | float) and not isinstance(node.value, bool):
        return node.value
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub):
        inner = _number(node.operand)
        return None if inner is None else -inner
    return None


def _loads(tree: ast.AST) -> Counter[str]:
    return Counter(n.id for n in ast.walk(tree) if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Load))


def _is_full_reduction(node: ast.expr) -> bool:
    if not isinstance(node, ast.Call) or any(k.arg == "axis" for k in node.keywords):
        return False
    name = _dotted(node.func)
    if name.startswith("jnp.") and name[4:] in _REDUCERS:
        return len(node.args) == 1
    return isinstance(node.func, ast.Attribute) and node.func.attr in _REDUCERS and not node.args


def _zero_trip(call: ast.Call, name: str) -> bool:
    if name == "lax.fori_loop" and len(call.args) >= 2:
        lo, hi = _number(call.args[0]), _number(call.args[1])
        return lo is not None and hi is not None and hi <= lo
    return False


def _zero_trip_cond(fn: ast.FunctionDef) -> bool:
    """``def cond(state): return state[0] < n`` with ``n <= 0``."""
    if len(fn.body) != 1 or not isinstance(fn.body[0], ast.Return):
        return False
    value = fn.body[0].value
    if not (isinstance(value, ast.Compare) and len(value.ops) == 1 and isinstance(value.ops[0], ast.Lt)):
        return False
    bound = _number(value.comparators[0])
    return isinstance(value.left, ast.Subscript) and bound is not None and bound <= 0


def _unused_params(fn: ast.FunctionDef) -> int:
    params = [a.arg for a in fn.args.args]
    loads = _loads(fn)
    unpacked = []
    for stmt in fn.body:
        if (isinstance(stmt, ast.Assign) and isinstance(stmt.value, ast.Name) and stmt.value.id in params
                and isinstance(stmt.targets[0], ast.Tuple)):
            unpacked += [e.id for e in stmt.targets[0].elts if isinstance(e, ast.Name)]
            params.remove(stmt.value.id)  # a packed tuple that is unpacked counts through its parts
    return sum(1 for name in params + unpacked if not name.startswith("_") and loads[name] == 0)


def _single_use_temporaries(fn: ast.FunctionDef) -> int:
    loads = _loads(fn)
    count = 0
    for stmt, following in zip(fn.body, fn.body[1:], strict=False):
        if not (isinstance(stmt, ast.Assign) and len(stmt.targets) == 1 and isinstance(stmt.targets[0], ast.Name)):
            continue
        name = stmt.targets[0].id
        if not isinstance(following, ast.Return) or loads[name] != 1:
            continue
        count += isinstance(following.value, ast.Name) and following.value.id == name
    return count


def dead_constructs(source: str) -> Counter[str]:
    """How often each of ``DEAD_CONSTRUCTS`` occurs in ``source`` (a module of one or more functions)."""
    found: Counter[str] = Counter()
    tree = ast.parse(source)
    top = [n for n in tree.body if isinstance(n, ast.FunctionDef)]
    for fn in top:
        assigned: dict[str, ast.expr] = {}
        for node in ast.walk(fn):
            if isinstance(node, ast.Assign) and len(node.targets) == 1 and isinstance(node.targets[0], ast.Name):
                assigned[node.targets[0].id] = node.value
        for node in ast.walk(fn):
            if isinstance(node, ast.FunctionDef):
                if node is not fn:
                    found["unused_params"] += _unused_params(node)
                    found["zero_trip_loops"] += _zero_trip_cond(node)
                found["single_use_temporaries"] += _single_use_temporaries(node)
            elif isinstance(node, ast.Call):
                name = _dotted(node.func)
                found["zero_trip_loops"] += _zero_trip(node, name)
                if name in ("jnp.where", "lax.select") and len(node.args) == 3:
                    found["identical_select"] += ast.dump(node.args[1]) == ast.dump(node.args[2])
                if name == "jnp.broadcast_to" and node.args:
                    source_arg = node.args[0]
                    if isinstance(source_arg, ast.Name):
                        source_arg = assigned.get(source_arg.id, source_arg)
                    found["reduce_broadcast"] += _is_full_reduction(source_arg)
    return Counter({k: v for k, v in found.items() if v})
