"""Placeholder: being written."""


class Value:  # pragma: no cover - replaced by the real engine
    pass


def topological_order(root):  # pragma: no cover
    raise NotImplementedError
