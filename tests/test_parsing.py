import pytest

from mdf_neel._parsing import parse_values


def test_ranges_are_inclusive_and_can_be_mixed_with_lists():
    assert parse_values("0:165:15", name="a") == tuple(float(v) for v in range(0, 166, 15))
    assert parse_values("0:30:15, 90", name="a") == (0.0, 15.0, 30.0, 90.0)
    # a step that does not divide the span stops before STOP
    assert parse_values("0:10:4", name="a") == (0.0, 4.0, 8.0)


def test_units_scale_to_si():
    assert parse_values("14nm:18nm:2nm", name="d", units={"nm": 1e-9}) == pytest.approx((14e-9, 16e-9, 18e-9))
    assert parse_values("2e-8, 22nm", name="d", units={"nm": 1e-9}) == pytest.approx((2e-8, 22e-9))


def test_sort_unique():
    assert parse_values("90,0,90,45", name="a", sort_unique=True) == (0.0, 45.0, 90.0)
    assert parse_values("90,0,90", name="a") == (90.0, 0.0, 90.0)


@pytest.mark.parametrize(
    "bad, match",
    [
        ("", "no values"),
        ("x", "cannot read"),
        ("0:10", "START:STOP:STEP"),
        ("10:0:5", "bad range"),
        ("0:10:0", "bad range"),
        ("3mm", "unknown unit"),
        ("1e400", "finite"),
        ("1.2.3", "cannot read"),
    ],
)
def test_bad_input_names_the_parameter(bad, match):
    with pytest.raises(ValueError, match=match) as info:
        parse_values(bad, name="--diameters", units={"nm": 1e-9})
    assert "--diameters" in str(info.value)
