"""The trip count of a LiteRT ``WHILE`` loop, read from the graph (pure over the parsed graphs).

A loop's condition subgraph compares a counter with a limit. The counter starts from a value the
parent graph passes in and the body adds a constant step to it. The limit may be a constant of
the condition, a loop variable the body passes on unchanged (its value then comes from the
parent graph), or a value the graph computes from a tensor's shape (``SHAPE`` then
``STRIDED_SLICE`` / ``GATHER``: the number of time steps of the sequence the loop walks). Values
are followed through a few integer operators (``CAST``, ``RESHAPE``, ``ADD``, ``MINIMUM`` ...);
when none of this fixes the count, :func:`loop_trips` says None and the caller marks its count a
lower bound.
"""

from __future__ import annotations

from .counts import while_trips

# comparisons of a counter with a limit: (counter on the left?, inclusive?)
_TESTS = {"LESS": (True, False), "LESS_EQUAL": (True, True),
          "GREATER": (False, False), "GREATER_EQUAL": (False, True)}  # fmt: skip
_PASS_THROUGH = ("CAST", "RESHAPE", "SQUEEZE", "EXPAND_DIMS", "IDENTITY")
_ARITH = {"ADD": lambda a, b: a + b, "SUB": lambda a, b: a - b, "MUL": lambda a, b: a * b,
          "MINIMUM": min, "MAXIMUM": max, "FLOOR_DIV": lambda a, b: a // b if b else None}  # fmt: skip


def values(graph, index: int, depth: int = 0) -> tuple[int, ...] | None:
    """The integer values of tensor ``index`` of ``graph`` when the graph fixes them: a small
    constant, a static shape, or integer arithmetic on those; None otherwise."""
    if index < 0 or depth > 16:
        return None
    t = graph.tensors[index]
    if t.constant:
        return t.value
    made = next((op for op in graph.ops if index in op.outputs), None)
    if made is None or not made.inputs:
        return None
    name, ins = made.name, made.inputs
    if name == "SHAPE":  # a dynamic dimension is unknown (None), not the 1 a test run gave it
        src = graph.tensors[ins[0]]
        sig = src.signature if len(src.signature) == len(src.shape) else (0,) * len(src.shape)
        return tuple(None if s < 0 else d for d, s in zip(src.shape, sig))
    if name in _PASS_THROUGH:
        return values(graph, ins[0], depth + 1)
    if name == "PACK":
        parts = [values(graph, i, depth + 1) for i in ins]
        if any(p is None or len(p) != 1 for p in parts):
            return None
        return tuple(p[0] for p in parts)
    if name in ("GATHER", "STRIDED_SLICE", "SLICE") and len(ins) >= 2:
        return _pick(name, made, [values(graph, i, depth + 1) for i in ins])
    if name in _ARITH and len(ins) == 2:
        a, b = (values(graph, i, depth + 1) for i in ins)
        if a is None or b is None or len(a) != 1 or len(b) != 1 or None in (a[0], b[0]):
            return None
        out = _ARITH[name](a[0], b[0])
        return None if out is None else (int(out),)
    return None


def _pick(name: str, op, args) -> tuple[int, ...] | None:
    """One element (or a run) of a known 1-D vector, by a known index: how a graph reads the
    number of time steps out of a shape."""
    vec = args[0]
    if vec is None or any(a is None or None in a for a in args[1:]):
        return None
    if name == "GATHER":
        idx = args[1]
        return tuple(vec[i] for i in idx) if all(-len(vec) <= i < len(vec) for i in idx) else None
    begin = args[1][0]
    if name == "SLICE":
        size = args[2][0] if len(args) > 2 else 1
        end = len(vec) if size < 0 else begin + size
        return tuple(vec[begin:end])
    if len(args) < 4 or op.options.get("beginMask") or op.options.get("ellipsisMask"):
        return None
    end, stride = args[2][0], args[3][0]
    if op.options.get("shrinkAxisMask", 0) & 1:
        return (vec[begin],) if -len(vec) <= begin < len(vec) else None
    end = len(vec) if op.options.get("endMask", 0) & 1 else end
    return tuple(vec[begin:end:stride]) if stride else None


def _one(v: tuple | None) -> int | None:
    return v[0] if v is not None and len(v) == 1 else None


def loop_trips(graphs: list, parent, op) -> int | None:
    """The trip count of a WHILE operator of ``parent``, when the graphs fix it; None otherwise.

    The condition must be comparisons (LESS, LESS_EQUAL, GREATER, GREATER_EQUAL; several joined
    by LOGICAL_AND: the smallest count wins) of a loop variable with a limit; the variable must
    start from a known value and the body must add a constant step to it.
    """
    cond = graphs[op.options["condSubgraphIndex"]]
    body = graphs[op.options["bodySubgraphIndex"]]
    made_by = {o: c for c in cond.ops for o in c.outputs}
    body_made_by = {o: b for b in body.ops for o in b.outputs}

    def start(k: int) -> int | None:
        if k >= len(op.raw_inputs):
            return None
        return _one(values(parent, op.raw_inputs[k]))

    def step(k: int) -> int | None:
        if k >= len(body.outputs):
            return None
        adder = body_made_by.get(body.outputs[k])
        if adder is None or adder.name != "ADD" or body.inputs[k] not in adder.inputs:
            return None
        other = [i for i in adder.inputs if i != body.inputs[k]]
        return _one(values(body, other[0])) if len(other) == 1 else None

    def limit(i: int) -> int | None:
        if i in cond.inputs:  # a loop variable: a limit if the body leaves it as it was
            k = cond.inputs.index(i)
            passed_on = k < len(body.outputs) and body.outputs[k] == body.inputs[k]
            return start(k) if passed_on else None
        return _one(values(cond, i))  # a constant, or computed from a shape

    def trips(i: int) -> int | None:
        test = made_by.get(i)
        if test is None:
            return None
        if test.name == "LOGICAL_AND":
            counts = [trips(j) for j in test.inputs]
            known = [c for c in counts if c is not None]
            # the loop stops at the first test that fails: any known count bounds it; all
            # unknown leaves it unknown
            return min(known) if known and len(known) == len(counts) else None
        if test.name not in _TESTS or len(test.inputs) != 2:
            return None
        left, inclusive = _TESTS[test.name]
        counter, bound = test.inputs if left else test.inputs[::-1]
        while counter not in cond.inputs and counter in made_by:  # e.g. CAST(counter)
            through = made_by[counter]
            if through.name not in _PASS_THROUGH:
                break
            counter = through.inputs[0]
        if counter not in cond.inputs:
            return None
        k = cond.inputs.index(counter)
        first, end, inc = start(k), limit(bound), step(k)
        if first is None or end is None or inc is None or inc <= 0:
            return None
        return while_trips(first, end + 1 if inclusive else end, inc)

    return trips(cond.outputs[0]) if len(cond.outputs) == 1 else None
