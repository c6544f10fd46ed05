"""The base of the generated enums (_enums.py)."""
import enum
from typing import Type, TypeVar, Union

E = TypeVar("E", bound="CEnum")


class CEnum(str, enum.Enum):
    """A value of a C enum. The value is its spelling everywhere in spattn ("ignored" for
    SPATTN_DISABLED_IGNORED), so a member equals that string; `c_value` is the C value."""

    c_value: int

    def __new__(cls, spelling: str, c_value: int) -> "CEnum":
        member = str.__new__(cls, spelling)
        member._value_ = spelling
        member.c_value = c_value
        return member

    def __str__(self) -> str:
        return self.value

    @classmethod
    def coerce(cls: Type[E], value: Union[E, str], what: str) -> E:
        """The member for `value` (a member or its spelling); ValueError naming `what` and the
        choices otherwise."""
        try:
            return cls(value)
        except ValueError:
            raise ValueError("%s: %r is not one of %s"
                             % (what, value, ", ".join(repr(m.value) for m in cls))) from None

    @classmethod
    def from_c(cls: Type[E], c_value: int) -> E:
        """The member whose C value is `c_value`; ValueError for a value these bindings do not
        know (a newer library)."""
        for member in cls:
            if member.c_value == c_value:
                return member
        raise ValueError("%s: C value %d is newer than these bindings" % (cls.__name__, c_value))
