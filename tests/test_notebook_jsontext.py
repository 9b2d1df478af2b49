"""Tests for trainfix.notebook.jsontext: reading the raw JSON text of a notebook."""

from trainfix.notebook.jsontext import uses_ascii_escapes


def test_escape_style_detection():
    assert uses_ascii_escapes('{"a": "caf\\u00e9"}')
    assert not uses_ascii_escapes('{"a": "café \\u00e9"}')  # UTF-8 text present: Jupyter's style
    assert not uses_ascii_escapes('{"a": "\\\\u00e9"}')  # an escaped backslash followed by u00e9
    assert not uses_ascii_escapes('{"a": "\\u001b[0m"}')  # control characters are escaped in both styles
    assert not uses_ascii_escapes('{"a": "plain"}')
