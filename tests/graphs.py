"""Graphs several test files build: the guide's running example, labelled as on page 6."""

from __future__ import annotations

from backprop import Value


def draft_graph() -> Value:
    """The guide's running example, L = (a*b + c) * f, with a=2, b=-3, c=10, f=-2."""
    a, b = Value(2.0, label="a"), Value(-3.0, label="b")
    c, f = Value(10.0, label="c"), Value(-2.0, label="f")
    e = a * b
    e.label = "e"
    d = e + c
    d.label = "d"
    L = d * f
    L.label = "L"
    return L
