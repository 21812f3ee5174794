"""Response bodies decode fast and exactly."""

from __future__ import annotations

import pytest

from rutter_pipeline.rutter.jsonbody import parse_body
from rutter_pipeline.rutter.jsonbody_items import UndecodableItem, parse_body_by_item


def test_integers_beyond_64_bits_stay_exact():
    assert parse_body(b'{"n": 123456789012345678901234567890, "x": 1.5}') == {
        "n": 123456789012345678901234567890,
        "x": 1.5,
    }


def test_a_lone_surrogate_escape_is_decoded_for_the_loader_to_judge():
    assert parse_body(b'{"note": "\\ud800"}') == {"note": "\ud800"}


@pytest.mark.parametrize(
    "body", [b"[NaN]", b'{"a": Infinity}', b"[1e999]", b'{"a": 1e999, "n": 12345678901234567890}', b'{"orders": [', b""]
)
def test_what_is_not_json_is_refused(body):
    with pytest.raises(ValueError):
        parse_body(body)


def test_items_that_do_not_decode_are_kept_as_text_and_the_rest_decodes():
    deep = b'{"id": "d", "x": ' + b"[" * 1100 + b"]" * 1100 + b"}"
    body = b'{"orders": [{"id": "a", "s": "],}\\""}, ' + deep + b', {"n": -Infinity}], "next_cursor": "c"}'
    decoded = parse_body_by_item(body)
    assert decoded["next_cursor"] == "c" and decoded["orders"][0] == {"id": "a", "s": '],}"'}
    assert decoded["orders"][1] == UndecodableItem(deep.decode(), "cannot be decoded: nested too deeply to decode", "d")
    assert decoded["orders"][2] == UndecodableItem('{"n": -Infinity}', "cannot be decoded: -Infinity is not JSON")


@pytest.mark.parametrize(
    "body",
    [
        b'{"orders": [{"id": "a"}, {"id": NaN',
        b'{"orders": [], "next_cursor": NaN}',
        b"<html>502</html>",
        b'{"orders": ["unterminated]}',
    ],
)
def test_a_body_broken_outside_its_items_is_still_refused(body):
    with pytest.raises(ValueError):
        parse_body_by_item(body)
