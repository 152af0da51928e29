"""``frozen``: the model's value-class decorator — ``attrs.frozen`` without a generated ``__repr__`` per class.

attrs writes and compiles a ``__repr__`` (and ``__match_args__``) for every class; with about sixty model classes
that is a measurable share of ``flowdef validate``'s start-up.  One generic ``__repr__`` prints the same
``Name(field=value, ...)`` text.  Everything else (slots, frozen, eq/hash, converters, validators) is attrs' own.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import attrs


def _repr(self: Any) -> str:
    cls = type(self)
    fields = ", ".join(f"{a.name}={getattr(self, a.name)!r}" for a in attrs.fields(cls) if a.repr)
    return f"{cls.__qualname__.rsplit('>.', 1)[-1]}({fields})"


if TYPE_CHECKING:  # type checkers see attrs' own decorator (the attrs mypy plugin knows it)
    from attrs import frozen as frozen
else:

    def frozen(maybe_cls=None, /, **kwargs):
        kwargs.setdefault("repr", False)
        kwargs.setdefault("match_args", False)

        def wrap(cls):
            own_repr = "__repr__" in cls.__dict__
            made = attrs.frozen(cls, **kwargs)
            if not own_repr:
                made.__repr__ = _repr
            return made

        return wrap(maybe_cls) if maybe_cls is not None else wrap
