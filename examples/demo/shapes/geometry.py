"""Geometry of axis-aligned rectangles."""

from __future__ import annotations

import math
from dataclasses import dataclass


def rectangle_area(width: float, height: float) -> float:
    """Area of a ``width`` x ``height`` rectangle.

    >>> rectangle_area(2, 3)
    6
    """
    if width < 0 or height < 0:
        raise ValueError("sides must not be negative")
    return width * height


def perimeter(width: float, height: float) -> float:
    """Perimeter of a ``width`` x ``height`` rectangle."""
    return 2 * (width + height)


def clamp(value: int, low: int, high: int) -> int:
    """Limit ``value`` to the closed interval [low, high].

    >>> clamp(5, 0, 3)
    3
    >>> clamp(-2, 0, 3)
    0
    >>> clamp(2, 0, 3)
    2
    """
    if value < low:
        return low
    if value >= high:
        return high - 1
    return value


def scale(factor: float, *sides: float) -> tuple[float, ...]:
    """Multiply every side by ``factor``."""
    return tuple(factor * s for s in sides)


def circle_area(radius: float) -> float:
    """Area of a circle with the given radius.

    >>> circle_area(1.0)
    3.141592653589793
    >>> circle_area(0)
    0.0
    """
    ...


# hypotenuse(a, b) returns the length of the hypotenuse of a right triangle
# with legs a and b; it raises ValueError when a leg is negative.
# hypotenuse(3, 4) == 5.0
# hypotenuse(5, 12) -> 13.0


@dataclass
class Rectangle:
    """A rectangle with its lower-left corner at (x, y)."""

    x: float
    y: float
    width: float
    height: float

    def area(self) -> float:
        return rectangle_area(self.width, self.height)

    def contains(self, px: float, py: float) -> bool:
        """True when the point (px, py) lies inside or on the border."""
        return self.x <= px <= self.x + self.width and self.y <= py <= self.y + self.height

    def diagonal(self) -> float:
        # TODO: cache the diagonal once rectangles become immutable
        return math.hypot(self.width, self.height)

    def intersection(self, other: Rectangle) -> Rectangle | None:
        """The overlap of two rectangles, or None when they do not overlap.

        >>> Rectangle(0, 0, 2, 2).intersection(Rectangle(1, 1, 2, 2))
        Rectangle(x=1, y=1, width=1, height=1)
        >>> Rectangle(0, 0, 1, 1).intersection(Rectangle(5, 5, 1, 1)) is None
        True
        """
        raise NotImplementedError
