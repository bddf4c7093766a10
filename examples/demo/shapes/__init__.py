"""Small geometry helpers: areas, perimeters, clamping and a rectangle class."""

from shapes.geometry import Rectangle, clamp, perimeter, rectangle_area, scale

__all__ = ["Rectangle", "clamp", "perimeter", "rectangle_area", "scale"]
