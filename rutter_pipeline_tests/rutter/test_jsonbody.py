"""Response bodies decode fast and exactly."""

from __future__ import annotations

import pytest

from rutter_pipeline.rutter.jsonbody import parse_body


def test_integers_beyond_64_bits_stay_exact():
    assert parse_body(b'{"n": 123456789012345678901234567890, "x": 1.5}') == {
        "n": 123456789012345678901234567890, "x": 1.5}


def test_a_lone_surrogate_escape_is_decoded_for_the_loader_to_judge():
    assert parse_body(b'{"note": "\\ud800"}') == {"note": "\ud800"}


@pytest.mark.parametrize("body", [b"[NaN]", b'{"a": Infinity}', b'{"orders": [', b""])
def test_what_is_not_json_is_refused(body):
    with pytest.raises(ValueError):
        parse_body(body)
