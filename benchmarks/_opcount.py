"""Element-op counts of a JAX computation per cost class, from its jaxpr and from its optimised HLO text.

Used by ``roofline.py`` (see its docstring for the method).  Classes: add, mul, div, sqrt, exp, log, expm1,
log1p, pow, tanh, sin, cos, max, select, compare.  Counts are element-ops (an op on an ``(n, m)`` array counts
``n m``); data movement counts nothing.
"""

from __future__ import annotations

import re
from collections import Counter

import numpy as np

_JAXPR_CLASS = {
    "add": "add", "sub": "add", "neg": "add", "abs": "add", "sign": "add", "convert_element_type": "add",
    "add_any": "add", "mul": "mul", "square": "mul", "div": "div", "rem": "div", "sqrt": "sqrt", "rsqrt": "sqrt",
    "exp": "exp", "exp2": "exp", "log": "log", "expm1": "expm1", "log1p": "log1p", "pow": "pow", "tanh": "tanh",
    "sin": "sin", "cos": "cos", "max": "max", "min": "max", "clamp": "max", "select_n": "select",
    "gt": "compare", "lt": "compare", "ge": "compare", "le": "compare", "eq": "compare", "ne": "compare",
    "and": "compare", "or": "compare", "not": "compare", "xor": "compare", "is_finite": "compare",
    "cumsum": "add", "logistic": ("exp", "div"), "tan": ("sin", "cos", "div"), "atan2": ("div", "log"),
    "floor": "add", "ceil": "add", "round": "add", "shift_left": "add", "shift_right_arithmetic": "add",
    "shift_right_logical": "add", "population_count": "add", "clz": "add",
}
_HLO_CLASS = {
    "add": "add", "subtract": "add", "negate": "add", "abs": "add", "convert": "add", "sign": "add",
    "multiply": "mul", "divide": "div", "remainder": "div", "sqrt": "sqrt", "rsqrt": "sqrt", "cbrt": "pow",
    "exponential": "exp", "log": "log", "exponential-minus-one": "expm1", "log-plus-one": "log1p",
    "power": "pow", "tanh": "tanh", "sine": "sin", "cosine": "cos", "maximum": "max", "minimum": "max",
    "clamp": "max", "select": "select", "compare": "compare", "and": "compare", "or": "compare", "not": "compare",
    "xor": "compare", "is-finite": "compare", "logistic": ("exp", "div"), "atan2": ("div", "log"),
    "floor": "add", "ceil": "add", "round-nearest-even": "add", "round-nearest-afz": "add", "shift-left": "add",
    "shift-right-arithmetic": "add", "shift-right-logical": "add", "popcnt": "add", "count-leading-zeros": "add",
}


def _size(aval) -> int:
    return int(np.prod(getattr(aval, "shape", ()) or (1,)))


def jaxpr_counts(jaxpr, trip: float = 1.0) -> Counter:
    """Element-ops per class of a (closed) jaxpr, sub-jaxprs included (``trip``: while-loop trip count)."""
    out = Counter()
    for e in getattr(jaxpr, "jaxpr", jaxpr).eqns:
        name, prm = e.primitive.name, e.params
        cls = _JAXPR_CLASS.get(name)
        n = sum(_size(v.aval) for v in e.outvars)
        if cls is not None:
            for c in (cls,) if isinstance(cls, str) else cls:
                out[c] += n
        elif name == "integer_pow":
            out["mul"] += n * max(abs(int(prm["y"])).bit_length() + bin(abs(int(prm["y"]))).count("1") - 2, 1)
        elif name in ("reduce_sum", "reduce_max", "reduce_min", "argmax", "argmin"):
            out["add" if name == "reduce_sum" else "max"] += _size(e.invars[0].aval)
        elif name == "dot_general":
            (lc, _), _ = prm["dimension_numbers"]
            k = int(np.prod([e.invars[0].aval.shape[i] for i in lc])) if lc else 1
            out["mul"] += n * k
            out["add"] += n * k
        subs = [(v, 1.0) for v in prm.values() if hasattr(v, "eqns") or hasattr(v, "jaxpr") and hasattr(v, "consts")]
        if name == "scan":
            subs = [(prm["jaxpr"], float(prm["length"]))]
        elif name == "while":
            subs = [(prm["body_jaxpr"], trip), (prm["cond_jaxpr"], trip)]
        elif name == "cond":
            branch = max((jaxpr_counts(b, trip) for b in prm["branches"]), key=lambda c: sum(c.values()))
            out.update(branch)
            subs = []
        for sub, mult in subs:
            for k, v in jaxpr_counts(sub, trip).items():
                out[k] += v * mult
    return out


_INSTR = re.compile(r"^\s*(?:ROOT\s+)?%(\S+)\s*=\s*(.*)$")
_SHAPE = re.compile(r"^(?:\w+)\[([\d,]*)\]")


def _parse_hlo(text: str) -> dict[str, list[tuple[str, str, str, str]]]:
    """Computations of an HLO module text: name -> [(instr name, type, opcode, rest of line)]."""
    comps, cur = {}, None
    for line in text.splitlines():
        if line.endswith("{") and "=" not in line.split("(")[0]:
            head = line.split("(")[0].split()
            cur = comps.setdefault(head[-1].lstrip("%"), [])
            if head[0] == "ENTRY":
                comps["__entry__"] = cur
            continue
        m = _INSTR.match(line)
        if cur is None or m is None:
            continue
        name, rest = m.groups()
        if rest.startswith("("):  # tuple type: skip to its closing parenthesis
            depth = 0
            for i, ch in enumerate(rest):
                depth += ch == "("
                depth -= ch == ")"
                if depth == 0:
                    break
            typ, rest = rest[:i + 1], rest[i + 1:].lstrip()
        else:
            typ, _, rest = rest.partition(" ")
        opcode = rest.split("(", 1)[0]
        cur.append((name, typ, opcode, rest))
    return comps


def _elems(typ: str) -> int:
    m = _SHAPE.match(typ)
    return int(np.prod([int(d) for d in m.group(1).split(",") if d] or [1])) if m else 0


def hlo_counts(text: str, trip: float = 1.0) -> tuple[Counter, Counter]:
    """(element-ops per HLO opcode, per cost class) as executed from ENTRY (fusions, while × trip count).

    A while loop without XLA's ``known_trip_count`` counts ``trip`` times and is tallied in the first counter
    under ``"while without known trip count"``."""
    comps = _parse_hlo(text)
    per_op = Counter()

    def walk(comp: str, mult: float) -> None:
        types = {}
        for name, typ, opcode, rest in comps.get(comp, []):
            types[name] = typ
            calls = re.findall(r"(?:calls|to_apply|body|condition)=%([\w.\-]+)", rest)
            if opcode == "while":
                m = re.search(r'known_trip_count[^0-9]*"?n"?\s*:\s*"?(\d+)', rest)
                n = float(m.group(1)) if m else trip
                if m is None:
                    per_op["while without known trip count"] += 1
                body = re.search(r"body=%([\w.\-]+)", rest).group(1)
                walk(body, mult * n)
            elif opcode in ("fusion", "call"):
                for c in calls:
                    walk(c, mult)
            elif opcode == "conditional":
                for c in re.findall(r"%([\w.\-]+)", rest.split("branch_computations=")[-1].split("}")[0]):
                    walk(c, mult)
            elif opcode == "reduce":
                src = re.findall(r"%([\w.\-]+)", rest.split("(", 1)[1])[0]
                per_op["reduce"] += _elems(types.get(src, typ)) * mult
            elif opcode == "dot":
                ops = re.findall(r"%([\w.\-]+)", rest.split("(", 1)[1])[:1]
                k = _elems(types.get(ops[0], typ)) if ops else 1
                per_op["dot"] += _elems(typ) * max(k // max(_elems(typ), 1), 1) * mult
            elif opcode in _HLO_CLASS:
                per_op[opcode] += _elems(typ) * mult

    walk("__entry__", 1.0)
    per_cls = Counter()
    for op, n in per_op.items():
        cls = {"reduce": "add", "dot": ("mul", "add")}.get(op, _HLO_CLASS.get(op))
        for c in (cls,) if isinstance(cls, str) else cls or ():
            per_cls[c] += n
    return per_op, per_cls


def ns_per_element(counts: Counter, n_out: int, cost: dict[str, float]) -> tuple[float, list[tuple[str, float]]]:
    parts = {k: v / n_out * cost.get(k, cost["add"]) for k, v in counts.items()}
    return sum(parts.values()), sorted(parts.items(), key=lambda kv: -kv[1])
