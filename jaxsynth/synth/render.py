"""Render a Program as a Python module with libcst (nodes, never string concatenation).

A value used more than once, used inside a nested body, produced by control flow, or whose inline
expression would grow past ``MAX_INLINE`` ops becomes a named statement; so does the widest inline operand
of an expression wider than ``MAX_WIDTH`` characters (until it fits); everything else is inlined
into its single consumer. A body's only returned value, used nowhere else, is returned inline (no
``v0 = ...; return v0``) unless the program keeps such temporaries (``dead_code.single_use_temporaries``).
Names are deterministic: inputs ``x0, x1, ...``, temporaries ``v0, ...``, bodies ``scan_body0``,
``cond_true0``, ... numbered in program order; a node with a name hint (``Program.names``, from
``style.names = "idiomatic"``) takes the hint instead, suffixed ``_1``, ``_2``, ... when it is taken.
A fori loop body that ignores its index names it ``_``.

A statement still longer than ``LINE_LIMIT`` characters (one call with many keyword arguments, such as a
convolution, or a ``return`` of several results, cannot be shortened by naming) is wrapped as black wraps it:
its outermost brackets open a block, with the contents on one indented line if they fit there and one item per
line with a trailing comma if they do not.
"""

from __future__ import annotations

from collections import Counter, defaultdict

import libcst as cst

from jaxsynth.grammar.ops import REGISTRY
from jaxsynth.grammar.ops_control import ControlSpec
from jaxsynth.grammar.opspec import BINARY_PRECEDENCE, call, compare, dtype_expr, literal
from jaxsynth.synth.program import ITEM, Node, Program, Region, Tree

MAX_INLINE = 4
#: An expression wider than this (in characters, estimated from its libcst nodes) names its widest operands.
MAX_WIDTH = 96
#: Ops whose rendering is wide (lists, index arrays, shape tuples) count double toward MAX_INLINE.
WIDE_OPS = frozenset({"take", "concatenate", "stack", "einsum", "pad", "where", "broadcast_to", "clip", "reshape",
                      "transpose", "saxpy"})
#: (jax.nn / jax.scipy.special / lax calls with long dotted names or keyword arguments)
WIDE_OPS |= frozenset({"gelu", "leaky_relu", "softmax", "log_softmax", "standardize", "logsumexp", "erfc", "erf_inv",
                       "lgamma", "digamma", "logit", "xlogy", "one_hot", "eye", "tri", "iota", "arange",
                       "bitcast_convert_type", "shift_right_logical", "stop_gradient", "population_count",
                       "optimization_barrier"})
#: A statement line longer than this (indentation included) is wrapped at its outermost brackets.
LINE_LIMIT = 100
#: Characters a statement's width estimate may be short by, and its target's length at most: a line whose
#: estimate is this far under ``LINE_LIMIT`` on both counts is not printed to be measured.
_ESTIMATE_SLACK = 16
HEADER = "import jax\nimport jax.numpy as jnp\nimport jax.lax as lax\n\n\n"
#: The header of a program with NamedTuple arguments or results (the one extra import they need).
HEADER_NAMEDTUPLE = "import jax\nimport jax.numpy as jnp\nimport jax.lax as lax\nfrom typing import NamedTuple\n\n\n"


_ATOMS = (cst.Name, cst.Integer, cst.Float, cst.SimpleString)


def _width(node: cst.CSTNode, memo: dict[int, int]) -> int:
    """About how many characters ``node`` renders to, without generating code (libcst's codegen costs
    more than rendering itself). ``memo`` holds the widths of subexpressions already measured."""
    known = memo.get(id(node))
    if known is not None:
        return known
    if isinstance(node, _ATOMS):
        width = len(node.value)
    elif isinstance(node, cst.Attribute):
        width = _width(node.value, memo) + 1 + len(node.attr.value)
    elif isinstance(node, cst.Call):
        width = _width(node.func, memo) + 2 + sum(
            _width(a.value, memo) + 2 + (len(a.keyword.value) + 1 if a.keyword else 0) for a in node.args)
    elif isinstance(node, cst.BinaryOperation):
        width = _width(node.left, memo) + 3 + _width(node.right, memo)
    elif isinstance(node, cst.UnaryOperation):
        width = 1 + _width(node.expression, memo)
    elif isinstance(node, cst.Comparison):
        width = _width(node.left, memo) + sum(4 + _width(c.comparator, memo) for c in node.comparisons)
    elif isinstance(node, cst.Subscript):
        width = _width(node.value, memo) + 2 + sum(
            3 + sum(_width(p, memo) for p in (getattr(e.slice, "value", None), getattr(e.slice, "lower", None),
                                             getattr(e.slice, "upper", None)) if p is not None)
            for e in node.slice)
    elif isinstance(node, cst.Tuple | cst.List):
        width = 2 + sum(2 + _width(e.value, memo) for e in node.elements)
    elif isinstance(node, cst.Dict):  # a returned dict pytree: ``{"key": value, ...}``
        width = 2 + sum(4 + _width(e.key, memo) + _width(e.value, memo) for e in node.elements)
    elif isinstance(node, cst.NamedExpr):
        width = _width(node.target, memo) + 4 + _width(node.value, memo)
    else:
        width = 16  # a construct the renderer rarely makes (lambda, ...): a fair guess
    return width + 2 * len(getattr(node, "lpar", ()))


def _statement(stmt: cst.BaseSmallStatement) -> cst.SimpleStatementLine:
    return cst.SimpleStatementLine([stmt])


def _assign(target: cst.BaseAssignTargetExpression, value: cst.BaseExpression) -> cst.SimpleStatementLine:
    return _statement(cst.Assign([cst.AssignTarget(target)], value))


def _bare_tuple(items: list[cst.BaseExpression]) -> cst.BaseExpression:
    if len(items) == 1:
        return items[0]
    return cst.Tuple([cst.Element(i) for i in items], lpar=[], rpar=[])


def _paren_tuple(items: list[cst.BaseExpression]) -> cst.BaseExpression:
    return items[0] if len(items) == 1 else cst.Tuple([cst.Element(i) for i in items])


class _Renderer:
    def __init__(self, program: Program) -> None:
        self.program = program
        self.uses: Counter[int] = Counter()
        self.home: dict[int, int] = {}  # node id -> id() of the region that defines it
        self.captured: set[int] = set()
        self.counters: Counter[str] = Counter()
        self.names: dict[int, str] = {}
        self.taken: set[str] = {"jax", "jnp", "lax", "_"}
        self.exprs: dict[int, cst.BaseExpression] = {}
        self.sizes: dict[int, int] = {}
        #: Widths of the expressions in ``exprs`` (keyed by ``id``: each stays alive in ``exprs``).
        self.widths: dict[int, int] = {}
        self._scan(program.body)

    def _scan(self, region: Region) -> None:
        for node in region.nodes:
            self.home[node.id] = id(region)
        for node in region.nodes:
            for a in node.args:
                self.uses[a] += 1
                if self.home.get(a) != id(region):
                    self.captured.add(a)
            for r in node.regions:
                self._scan(r)  # counts r's outputs as uses
                for out in r.outputs:
                    if self.home.get(out) != id(r):
                        self.captured.add(out)
        for out in region.outputs:
            self.uses[out] += 1

    def fresh(self, prefix: str) -> str:
        while True:
            n = self.counters[prefix]
            self.counters[prefix] += 1
            if f"{prefix}{n}" not in self.taken:
                self.taken.add(f"{prefix}{n}")
                return f"{prefix}{n}"

    def name_for(self, node_id: int, prefix: str, bare: bool = False) -> str:
        """The node's hint if it has one (deduplicated), else the next generic ``prefix`` name (``prefix``
        itself first when ``bare``)."""
        hint = self.program.names.get(node_id)
        if hint is None and not bare:
            return self.fresh(prefix)
        hint = (hint or prefix).rsplit("/", 1)[-1]  # a parameter path outside a params dict: its last key
        name, n = hint, 0
        while name in self.taken:
            n += 1
            name = f"{hint}_{n}"
        self.taken.add(name)
        return name

    def expr(self, node_id: int) -> cst.BaseExpression:
        if node_id in self.names:
            return cst.Name(self.names[node_id])
        return self.exprs[node_id]

    # ------------------------------------------------------------ bodies

    def block(self, region: Region) -> list[cst.BaseStatement]:
        statements: list[cst.BaseStatement] = []
        for node in region.nodes:
            if node.op in ("input", "param", ITEM):
                continue
            if node.op == "literal":
                self.exprs[node.id] = literal(node.params["value"])
                self.sizes[node.id] = 0
                continue
            spec = REGISTRY.get(node.op)
            returned = self._returned_once(node, region)
            if isinstance(spec, ControlSpec):
                statements.extend(self._control(node, spec, returned))
                continue
            value, width = self._render(node, spec, statements)
            inline_args = sum(self.sizes.get(a, 0) for a in node.args if a not in self.names)
            size = (2 if node.op in WIDE_OPS else 1) + inline_args
            is_output = node.id in region.outputs and len(region.outputs) > 1
            if not returned and (
                self.uses[node.id] != 1 or node.id in self.captured or size > (2 if is_output else MAX_INLINE)
            ):
                name = self.name_for(node.id, "v")
                statements.append(_assign(cst.Name(name), value))
                self.names[node.id] = name
            else:
                self.exprs[node.id] = value
                self.widths[id(value)] = width
                self.sizes[node.id] = size
        return statements

    def _render(self, node: Node, spec, statements: list[cst.BaseStatement]) -> tuple[cst.BaseExpression, int]:
        """``node``'s expression; while it is wider than ``MAX_WIDTH``, its widest inline operand (an op, not
        a leaf) becomes a named statement first (an inline operand has one use, so it may be computed here)."""
        while True:
            args = [self.expr(a) for a in node.args]
            value = self._full(node) if node.op == "full" else spec.render(args, node.params)
            width = _width(value, self.widths)
            inline = [a for a in dict.fromkeys(node.args)
                      if a not in self.names and self.sizes.get(a, 0) > 0 and self.program.node(a).is_op]
            if width <= MAX_WIDTH or not inline:
                return value, width
            widest = max(inline, key=lambda a: _width(self.exprs[a], self.widths))
            name = self.name_for(widest, "v")
            statements.append(_assign(cst.Name(name), self.exprs[widest]))
            self.names[widest] = name

    def _returned_once(self, node: Node, region: Region) -> bool:
        """Whether the node's only use is its region's ``return`` (so naming it would be a dead temporary)."""
        return (not self.program.temporaries and len(node.types) == 1 and self.uses[node.id] == 1
                and region.outputs == (node.id,) and node.id not in self.captured)

    def _full(self, node: Node) -> cst.BaseExpression:
        t = node.type
        return call("jnp.full", literal(t.shape), literal(node.params["value"]), dtype=dtype_expr(t.dtype))

    def _control(self, node: Node, spec: ControlSpec, returned: bool = False) -> list[cst.BaseStatement]:
        number = self.counters[node.op]
        self.counters[node.op] += 1
        roles = {
            "cond": ["cond_true", "cond_false"],
            "switch": [f"branch{number}_" for _ in node.regions],
            "fori_loop": ["loop_body"],
            "while_loop": ["while_body"],
            "scan": ["scan_body"],
        }.get(node.op) or [f"{node.op}_{region.role}" for region in node.regions]
        statements: list[cst.BaseStatement] = []
        names = []
        for j, (region, role) in enumerate(zip(node.regions, roles, strict=True)):
            name = f"{role}{j}" if node.op == "switch" else f"{role}{number}"
            names.append(name)
            statements.append(self._def(name, region))
        if spec.define is not None:
            statements = spec.define(statements, names, node.params)  # type: ignore[arg-type]
        if node.op == "while_loop":
            names.append(f"while_cond{number}")
            statements.append(self._while_cond(names[-1], node.params["trips"]))
        value = spec.render([self.expr(a) for a in node.args], node.params, names)
        if returned and node.op != "while_loop" and not spec.clipped:  # a clipped output needs its statement
            self.exprs[node.id] = value
            self.sizes[node.id] = MAX_INLINE
            return statements
        statements.append(_assign(self._targets(node), value))
        statements.extend(self._clip_outputs(node, spec))
        return statements

    def _clip_outputs(self, node: Node, spec: ControlSpec) -> list[cst.BaseStatement]:
        """``v = jnp.clip(v, -bound, bound)`` for each used output the row declares clipped."""
        if not spec.clipped:
            return []
        if len(node.types) == 1:
            named = {0: node.id}
        else:
            named = {n.params["index"]: n.id for n in self._items(node) if n.id in self.names}
        bound = node.params["bound"]
        out = []
        for i in spec.clipped:
            if i in named:
                name = cst.Name(self.names[named[i]])
                out.append(_assign(name, call("jnp.clip", name, literal(-bound), literal(bound))))
        return out

    def _targets(self, node: Node) -> cst.BaseAssignTargetExpression:
        if len(node.types) == 1:
            name = self.name_for(node.id, "v")
            self.names[node.id] = name
            target: list[cst.BaseExpression] = [cst.Name(name)]
        else:
            items = {n.params["index"]: n.id for n in self._items(node)}
            target = []
            for i in range(len(node.types)):
                if i in items and self.uses[items[i]]:
                    self.names[items[i]] = self.name_for(items[i], "v")
                    target.append(cst.Name(self.names[items[i]]))
                else:
                    target.append(cst.Name("_"))
        if node.op == "while_loop":
            target = [cst.Name("_"), *target]
        if node.op == "scan" and node.params["carries"] > 1:
            target = [_paren_tuple(target[:-1]), target[-1]]
        return _bare_tuple(target)  # type: ignore[return-value]

    def _items(self, node: Node) -> list[Node]:
        return self._item_index[node.id]

    def _def(self, name: str, region: Region) -> cst.FunctionDef:
        params = list(region.params)
        prologue: list[cst.BaseStatement] = []
        layout, carries = region.layout, region.carries

        def bind(prefix: str, node_id: int) -> cst.Param:
            self.names[node_id] = self.fresh(prefix)
            return cst.Param(cst.Name(self.names[node_id]))

        def bind_tuple(prefix: str, ids: list[int]) -> cst.Param:
            if len(ids) == 1:
                return bind("c", ids[0])
            packed = self.fresh(prefix)
            for i in ids:
                self.names[i] = self.fresh("c")
            prologue.append(_assign(_bare_tuple([cst.Name(self.names[i]) for i in ids]), cst.Name(packed)))  # type: ignore[arg-type]
            return cst.Param(cst.Name(packed))

        if layout == "flat":  # a cond/switch branch that ignores an operand the others read names it _aN
            branch = region.role in ("true", "false") or region.role.startswith("branch")
            signature = [bind("_a", p) if branch and not self.uses[p] else bind("a", p) for p in params]
        elif layout == "index_carry":
            index = bind("i", params[0]) if self.uses[params[0]] else cst.Param(cst.Name("_"))
            signature = [index, bind_tuple("carry", params[1:])]
        elif layout == "carry_x":
            signature = [bind_tuple("carry", params[:carries]), bind("s", params[carries])]
        else:  # state: a hidden trip counter first
            state = self.fresh("state")
            counter = self.fresh("k")
            for p in params:
                self.names[p] = self.fresh("c")
            targets = [cst.Name(counter)] + [cst.Name(self.names[p]) for p in params]
            prologue.append(_assign(_bare_tuple(targets), cst.Name(state)))  # type: ignore[arg-type]
            signature = [cst.Param(cst.Name(state))]
        body = prologue + self.block(region)
        outs = [self.expr(o) for o in region.outputs]
        if layout == "carry_x":
            result = _bare_tuple([_paren_tuple(outs[:carries]), outs[carries]])
        elif layout == "state":
            from jaxsynth.grammar.opspec import binop

            result = _bare_tuple([binop(cst.Name(counter), cst.Add, literal(1)), *outs])
        else:
            result = _bare_tuple(outs)
        body.append(_statement(cst.Return(result)))
        return cst.FunctionDef(cst.Name(name), cst.Parameters(signature), cst.IndentedBlock(body))

    def _while_cond(self, name: str, trips: int) -> cst.FunctionDef:
        state = self.fresh("state")
        first = cst.Subscript(cst.Name(state), [cst.SubscriptElement(cst.Index(literal(0)))])
        body = [_statement(cst.Return(compare(first, cst.LessThan, literal(trips))))]
        return cst.FunctionDef(cst.Name(name), cst.Parameters([cst.Param(cst.Name(state))]), cst.IndentedBlock(body))

    # ------------------------------------------------------------ module

    def module(self) -> cst.Module:
        items: dict[int, list[Node]] = defaultdict(list)
        for node in self.program.walk():
            if node.op == ITEM:
                items[node.args[0]].append(node)
        self._item_index = items
        params = []
        prologue: list[cst.BaseStatement] = []
        leaves = self.program.body.params
        for tree in self.program.arguments:
            if tree.kind == "leaf":
                self.names[leaves[tree.index]] = self.name_for(leaves[tree.index], "x")
                params.append(cst.Param(cst.Name(self.names[leaves[tree.index]])))
                continue
            if self.program.names:  # idiomatic: `params["dense_0"]["kernel"]` at each use
                packed = self.name_for(-1, "params" if tree.kind == "dict" else "state", bare=True)
                params.append(cst.Param(cst.Name(packed)))
                for index, path in _paths(tree, cst.Name(packed)):
                    self.exprs[leaves[index]] = path
                    self.sizes[leaves[index]] = 2  # a wide leaf: names come sooner
                continue
            packed = self.fresh("params" if tree.kind == "dict" else "state")  # (a tuple or a NamedTuple)
            params.append(cst.Param(cst.Name(packed)))
            for index, path in _paths(tree, cst.Name(packed)):
                self.names[leaves[index]] = self.fresh("x")
                prologue.append(_assign(cst.Name(self.names[leaves[index]]), path))
        body = prologue + self.block(self.program.body)
        outs = [self.expr(o) for o in self.program.body.outputs]
        body.append(_statement(cst.Return(_bare_tuple([_packed(t, outs) for t in self.program.results]))))
        fn = cst.FunctionDef(cst.Name(self.program.name), cst.Parameters(params), cst.IndentedBlock(body))
        fn = fn.visit(_Wrap(self.widths))
        classes = [_named_tuple_class(t) for t in self.program.named_tuples]
        spaced = [classes[0], *(c.with_changes(leading_lines=_TWO_LINES) for c in classes[1:])] if classes else []
        return cst.Module(body=[*spaced, fn.with_changes(leading_lines=_TWO_LINES) if classes else fn])


_TWO_LINES = [cst.EmptyLine(), cst.EmptyLine()]
_CODEGEN = cst.Module(body=[])
_INDENT = "    "


def _break(level: int) -> cst.ParenthesizedWhitespace:
    """A line break inside brackets, the next line indented ``level`` steps past the block's indentation."""
    return cst.ParenthesizedWhitespace(first_line=cst.TrailingWhitespace(), indent=True,
                                       last_line=cst.SimpleWhitespace(_INDENT * level))


def _wrapped(expr: cst.BaseExpression, room: int, level: int = 0) -> cst.BaseExpression | None:
    """``expr`` with its outermost non-empty brackets (a call's arguments, a tuple's, list's or dict's items)
    opened onto lines ``level + 1`` steps in: all on one line if that fits in ``room`` characters past the block's
    indentation, else one per line with a trailing comma, each item too long for its line opened in turn. ``None``
    when it has no brackets to open (a name, an operator expression)."""
    if isinstance(expr, cst.Call):
        if not expr.args:  # ``f(...).values()``: the brackets before the empty ones
            inner = _wrapped(expr.func.value, room, level) if isinstance(expr.func, cst.Attribute) else None
            return None if inner is None else expr.with_changes(func=expr.func.with_changes(value=inner))
        args = _items(list(expr.args), room, level, "whitespace_after_arg")
        return expr.with_changes(args=args, whitespace_before_args=_break(level + 1))
    if isinstance(expr, cst.Comparison) and not expr.lpar:  # ``c <= f(...)``: the last operand's brackets
        last = expr.comparisons[-1]
        inner = _wrapped(last.comparator, room, level)
        return None if inner is None else expr.with_changes(
            comparisons=[*expr.comparisons[:-1], last.with_changes(comparator=inner)])
    if isinstance(expr, cst.Subscript | cst.Attribute):  # ``conv(...)[0]``, ``cholesky(...).T``
        inner = _wrapped(expr.value, room, level)
        return None if inner is None else expr.with_changes(value=inner)
    if isinstance(expr, cst.Tuple) and expr.elements:  # a bare ``return a, b`` gets black's parentheses
        elements = _items(list(expr.elements), room, level, None)
        if len(elements) == 1 and elements[0].comma == cst.MaybeSentinel.DEFAULT:
            elements[0] = elements[0].with_changes(comma=cst.Comma())
        return expr.with_changes(elements=elements, lpar=[cst.LeftParen(whitespace_after=_break(level + 1))],
                                 rpar=[cst.RightParen(whitespace_before=_break(level))])
    if isinstance(expr, cst.BinaryOperation) and not expr.lpar:  # ``a * b + c``: parentheses, a break before ``+``
        return _split_operators(expr, BINARY_PRECEDENCE[type(expr.operator)], room, level + 1).with_changes(
            lpar=[cst.LeftParen(whitespace_after=_break(level + 1))],
            rpar=[cst.RightParen(whitespace_before=_break(level))])
    if isinstance(expr, cst.List | cst.Dict) and expr.elements:
        opening, closing = ("lbracket", "rbracket") if isinstance(expr, cst.List) else ("lbrace", "rbrace")
        return expr.with_changes(
            elements=_items(list(expr.elements), room, level, None),
            **{opening: getattr(expr, opening).with_changes(whitespace_after=_break(level + 1)),
               closing: getattr(expr, closing).with_changes(whitespace_before=_break(level))})
    return None


def _wrapped_receiver(expr: cst.BaseExpression, room: int) -> cst.BaseExpression | None:
    """A method call ``f(...).m(args)`` with ``f(...)``'s brackets opened and ``.m(args)`` after the closing one
    (where opening ``m``'s own brackets leaves ``... f(...).m(`` too long, as black does); ``None`` for others."""
    if not (isinstance(expr, cst.Call) and isinstance(expr.func, cst.Attribute)):
        return None
    inner = _wrapped(expr.func.value, room)
    return None if inner is None else expr.with_changes(func=expr.func.with_changes(value=inner))


def _split_operators(expr: cst.BaseExpression, precedence: int, room: int, level: int) -> cst.BaseExpression:
    """A line break before each operator of ``expr``'s top-level chain of operators of ``precedence``; an operand
    too long for its line (``level`` steps in) opened in turn."""
    if not isinstance(expr, cst.BinaryOperation) or expr.lpar or BINARY_PRECEDENCE[type(expr.operator)] != precedence:
        if len(_CODEGEN.code_for_node(expr)) + 2 > room - len(_INDENT) * level:
            return _wrapped(expr, room, level) or expr
        return expr
    return expr.with_changes(left=_split_operators(expr.left, precedence, room, level),
                             operator=expr.operator.with_changes(whitespace_before=_break(level)),
                             right=_split_operators(expr.right, -1, room, level))  # (-1: an operand, not a chain)


def _length(item: cst.CSTNode) -> int:
    """Characters of one bracketed item with its comma (a parameter prints only inside its ``Parameters``)."""
    return len(_CODEGEN.code_for_node(cst.Parameters([item]) if isinstance(item, cst.Param) else item))


def _items(items: list, room: int, level: int, closing_field: str | None) -> list:
    """Opened brackets' items: on one line joined by ``", "`` if it fits, else one per line, each with a comma
    (an item too long for its line opened in turn). ``closing_field`` is where the item type keeps the
    whitespace before the closing bracket (a call's ``Arg``); ``None``: the bracket holds it."""
    inner = room - len(_INDENT) * (level + 1)
    joined = [item.with_changes(comma=cst.Comma(whitespace_after=cst.SimpleWhitespace(" ")) if i < len(items) - 1
                                else cst.MaybeSentinel.DEFAULT) for i, item in enumerate(items)]
    per_line = sum(_length(item) for item in joined) > inner
    out = []
    for i, item in enumerate(joined if not per_line else items):
        last = i == len(items) - 1
        if per_line:
            value = getattr(item, "value", None)
            if value is not None and _length(item.with_changes(comma=cst.Comma())) > inner:
                value = _wrapped(value, room, level + 1)
                item = item if value is None else item.with_changes(value=value)
            item = item.with_changes(comma=cst.Comma(whitespace_after=cst.SimpleWhitespace("") if last
                                                     else _break(level + 1)))
        if last and closing_field:
            item = item.with_changes(**{closing_field: _break(level)})
        out.append(item)
    if per_line and not closing_field:  # the bracket's own whitespace breaks the line; the comma ends it
        out[-1] = out[-1].with_changes(comma=cst.Comma())
    return out


class _Wrap(cst.CSTTransformer):
    """Wraps each assignment or ``return`` line longer than ``LINE_LIMIT`` at its outermost brackets (see the
    module docstring). ``widths`` are the renderer's width estimates, so only lines that may be long are printed."""

    def __init__(self, widths: dict[int, int]) -> None:
        super().__init__()
        self.widths = widths
        self.depth = 0

    def visit_IndentedBlock(self, node: cst.IndentedBlock) -> None:
        self.depth += 1

    def leave_IndentedBlock(self, original: cst.IndentedBlock, updated: cst.IndentedBlock) -> cst.IndentedBlock:
        self.depth -= 1
        return updated

    def leave_SimpleStatementLine(self, original: cst.SimpleStatementLine,
                                  updated: cst.SimpleStatementLine) -> cst.SimpleStatementLine:
        stmt = updated.body[0]
        if len(updated.body) != 1 or not isinstance(stmt, cst.Assign | cst.Return) or stmt.value is None:
            return updated
        indent = len(_INDENT) * self.depth
        if indent + _ESTIMATE_SLACK + _width(original.body[0].value, self.widths) <= LINE_LIMIT - _ESTIMATE_SLACK:
            return updated  # surely short (the estimate is within a few characters; targets are short)
        if indent + len(_CODEGEN.code_for_node(updated).rstrip("\n")) <= LINE_LIMIT:
            return updated
        first = None
        for wrap in (_wrapped, _wrapped_receiver):  # black's order: the last brackets, else a method's receiver's
            value = wrap(stmt.value, LINE_LIMIT - indent)
            if value is None:
                continue
            line = updated.with_changes(body=[stmt.with_changes(value=value)])
            if indent + max(len(t) for t in _CODEGEN.code_for_node(line).splitlines()) <= LINE_LIMIT:
                return line
            first = first or line
        return first or updated

    def leave_FunctionDef(self, original: cst.FunctionDef, updated: cst.FunctionDef) -> cst.FunctionDef:
        """A ``def`` line too long for ``LINE_LIMIT`` gets its parameters on their own lines, as black does."""
        params = updated.params.params
        header = updated.with_changes(body=cst.SimpleStatementSuite([cst.Pass()]), leading_lines=[])
        indent = len(_INDENT) * self.depth
        if not params or indent + len(_CODEGEN.code_for_node(header)) - len(" pass\n") <= LINE_LIMIT:
            return updated
        items = _items(list(params), LINE_LIMIT - indent, 0, "whitespace_after_param")
        return updated.with_changes(params=updated.params.with_changes(params=items),
                                    whitespace_before_params=_break(1))


def _named_tuple_class(tree: Tree) -> cst.ClassDef:
    """``class State0(NamedTuple):`` with one ``field: jax.Array`` line per field."""
    fields = [_statement(cst.AnnAssign(cst.Name(k), cst.Annotation(call("jax.Array").func), None))
              for k in tree.keys]
    return cst.ClassDef(cst.Name(tree.name), cst.IndentedBlock(fields), bases=[cst.Arg(cst.Name("NamedTuple"))])


def _paths(tree: Tree, expr: cst.BaseExpression) -> list[tuple[int, cst.BaseExpression]]:
    """(leaf position, ``expr["key"][0].field...``) for each leaf of ``tree`` held by ``expr``."""
    if tree.kind == "leaf":
        return [(tree.index, expr)]
    if tree.kind == "namedtuple":
        return [p for k, c in zip(tree.keys, tree.children, strict=True)
                for p in _paths(c, cst.Attribute(expr, cst.Name(k)))]
    keys = [cst.SimpleString(f'"{k}"') for k in tree.keys] if tree.kind == "dict" else \
        [literal(i) for i in range(len(tree.children))]
    out = []
    for key, child in zip(keys, tree.children, strict=True):
        out.extend(_paths(child, cst.Subscript(expr, [cst.SubscriptElement(cst.Index(key))])))
    return out


def _packed(tree: Tree, outs: list[cst.BaseExpression]) -> cst.BaseExpression:
    """The returned value for ``tree``: a dict display, a parenthesized tuple, or a leaf's expression."""
    if tree.kind == "leaf":
        return outs[tree.index]
    items = [_packed(c, outs) for c in tree.children]
    if tree.kind == "namedtuple":
        return call(tree.name, **dict(zip(tree.keys, items, strict=True)))
    if tree.kind == "dict":
        return cst.Dict([cst.DictElement(cst.SimpleString(f'"{k}"'), v) for k, v in zip(tree.keys, items, strict=True)])
    if len(items) == 1:
        return cst.Tuple([cst.Element(items[0], comma=cst.Comma())])
    return cst.Tuple([cst.Element(i) for i in items])


def render_module(program: Program, imports: bool = True) -> cst.Module:
    """The program as a libcst Module; with ``imports`` it starts with the three import lines."""
    module = _Renderer(program).module()
    if not imports:
        return module
    first = module.body[0].with_changes(leading_lines=[cst.EmptyLine(), cst.EmptyLine()])
    header = HEADER_NAMEDTUPLE if program.named_tuples else HEADER
    return cst.Module(body=[*cst.parse_module(header).body, first, *module.body[1:]])


def render(program: Program, imports: bool = True) -> str:
    """Python source of the program: the three imports (optional) and one ``def``.

    The fixed import header is prepended as text; the function itself is always built and
    printed by libcst."""
    code = _Renderer(program).module().code
    if not imports:
        return code
    return (HEADER_NAMEDTUPLE if program.named_tuples else HEADER) + code
