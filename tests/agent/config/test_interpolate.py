"""Tests of ${VAR} expansion on the raw config text."""

from __future__ import annotations

from logferry.agent.config.interpolate import InterpolationError, interpolate


class TestInterpolate:
    def test_set_variable_is_replaced(self) -> None:
        """A set variable is replaced by its value."""
        assert interpolate("path: ${LOG_DIR}/app.log", {"LOG_DIR": "/var/log"}).text == "path: /var/log/app.log"

    def test_default_used_when_unset(self) -> None:
        """`${VAR:-default}` gives the default when the variable is unset."""
        assert interpolate("port: ${PORT:-9000}", {}).text == "port: 9000"

    def test_default_used_when_empty(self) -> None:
        """`${VAR:-default}` gives the default when the variable is empty, as in the shell."""
        assert interpolate("port: ${PORT:-9000}", {"PORT": ""}).text == "port: 9000"

    def test_set_value_beats_default(self) -> None:
        """A set, non-empty variable wins over its default."""
        assert interpolate("port: ${PORT:-9000}", {"PORT": "81"}).text == "port: 81"

    def test_empty_default_is_allowed(self) -> None:
        """`${VAR:-}` expands to an empty string without error."""
        result = interpolate("x: '${NOPE:-}'", {})
        assert (result.text, result.errors) == ("x: ''", [])

    def test_double_dollar_is_a_literal_dollar(self) -> None:
        """`$$` is an escaped `$`, so `$${X}` stays a literal `${X}`."""
        assert interpolate("a: $${HOME} b: $$", {"HOME": "/root"}).text == "a: ${HOME} b: $"

    def test_lone_dollar_is_kept(self) -> None:
        """A `$` not followed by `{` or `$` is left alone, so regex anchors need no escaping."""
        assert interpolate("pattern: 'error$' cost: $5", {}).text == "pattern: 'error$' cost: $5"

    def test_unset_variable_is_an_error_at_the_dollar(self) -> None:
        """An unset variable without default is reported with the position of its `$`."""
        result = interpolate("a: 1\nb: ${LOG_DIR}/x", {})
        assert result.errors == [InterpolationError(8, "environment variable LOG_DIR is not set")]
        assert result.text == "a: 1\nb: /x"

    def test_every_error_is_collected(self) -> None:
        """All problems of the text are reported, not only the first."""
        result = interpolate("${A} ${B:-ok} ${C} ${1X} ${D", {})
        assert [e.message for e in result.errors] == [
            "environment variable A is not set",
            "environment variable C is not set",
            'invalid variable reference "${1X}"; use ${NAME} or ${NAME:-default}, and $$ for a literal $',
            'unclosed "${"; use ${NAME} or ${NAME:-default}, and $$ for a literal $',
        ]

    def test_value_with_line_break_is_rejected(self) -> None:
        """A value containing a line break is an error, since it would change the YAML structure."""
        result = interpolate("key: ${PEM}", {"PEM": "a\nb"})
        assert result.errors == [InterpolationError(5, "environment variable PEM contains a line break")]


class TestOriginalIndex:
    def test_positions_after_a_longer_value_map_back(self) -> None:
        """A position after an expanded value maps to the same character in the original text."""
        original = "a: ${X} b"
        result = interpolate(original, {"X": "longer-value"})
        expanded_b = result.text.index("b", 3)
        assert original[result.original_index(expanded_b)] == "b"

    def test_position_inside_a_value_maps_to_its_dollar(self) -> None:
        """A position inside an expanded value maps to the `$` that produced it."""
        result = interpolate("a: ${X}", {"X": "value"})
        assert result.original_index(result.text.index("lu")) == 3

    def test_positions_before_any_expansion_are_unchanged(self) -> None:
        """Positions before the first expansion are the same in both texts."""
        result = interpolate("abc ${X}", {"X": "y"})
        assert [result.original_index(i) for i in range(4)] == [0, 1, 2, 3]

    def test_escape_shortens_the_text(self) -> None:
        """After a `$$` escape the expanded text is one shorter, and positions still map back."""
        result = interpolate("$$ z", {})
        assert result.original_index(result.text.index("z")) == 3


class TestComments:
    def test_whole_line_comments_are_not_expanded(self) -> None:
        """A variable named in a commented-out line is neither expanded nor an error."""
        from logferry.agent.config.interpolate import interpolate

        text = "a: ${A}\n  # b: ${UNSET_IN_COMMENT}\nc: 1 # ${A}\n"
        out = interpolate(text, {"A": "x"})
        assert out.errors == []
        assert out.text == "a: x\n  # b: ${UNSET_IN_COMMENT}\nc: 1 # x\n"
