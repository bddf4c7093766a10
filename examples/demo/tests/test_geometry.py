import pytest

from shapes.geometry import Rectangle, perimeter, rectangle_area


def test_rectangle_area():
    assert rectangle_area(2, 3) == 6


def test_rectangle_area_rejects_negative_sides():
    with pytest.raises(ValueError):
        rectangle_area(-1, 3)


def test_perimeter():
    assert perimeter(2, 3) == 10


def test_contains():
    r = Rectangle(0, 0, 2, 2)
    assert r.contains(1, 1)
    assert not r.contains(3, 1)
