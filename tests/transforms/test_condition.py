"""The filter/route condition language: parsing, operators, missing fields and errors."""

from __future__ import annotations

import pytest

from logferry.transforms.condition import ConditionError, compile_condition

EVENT = {
    "log.level": "ERROR",
    "message": "CUDA out of memory",
    "ml": {"loss": 0.5, "step": 100},
    "http.response.status_code": "503",
    "tags": ["cuda_oom", "_multiline"],
    "ok": True,
    "nothing": None,
}


def check(src: str, event: dict[str, object] = EVENT) -> bool:
    return compile_condition(src)(event)


class TestComparisons:
    @pytest.mark.parametrize("src", [
        'log.level == "ERROR"', "log.level != 'INFO'", "ml.loss < 1", "ml.loss <= 0.5", "ml.step > 99",
        "ml.step >= 100", "ml.loss > -1e3", "http.response.status_code >= 500", "ok == true", "nothing == null",
        'log.level < "F"',
    ])
    def test_true_comparisons(self, src: str) -> None:
        """Each comparison holds for the sample event (numbers, numeric strings, strings, bools, null)."""
        assert check(src)

    @pytest.mark.parametrize("src", [
        'log.level == "error"', "ml.loss > 1", 'ml.loss == "0.5"', "ok == 1", "log.level > 3", "nothing == false",
    ])
    def test_false_comparisons(self, src: str) -> None:
        """Mismatched values and mismatched types are false, never an error."""
        assert not check(src)


class TestMembershipAndRegex:
    def test_in_and_not_in(self) -> None:
        """`in [...]` and `not in [...]` test membership with the same typing rules."""
        assert check('log.level in ["WARNING", "ERROR"]')
        assert check("ml.step in [1, 100]")
        assert check('log.level not in ["INFO"]')
        assert not check('log.level not in ["ERROR"]')
        assert not check("ml.step in []")

    def test_list_fields_match_any_element(self) -> None:
        """A list field such as tags matches == and in when one element does."""
        assert check('tags == "cuda_oom"')
        assert check('tags in ["x", "_multiline"]')
        assert check('tags != "absent"')
        assert not check('tags != "cuda_oom"')

    def test_regex_match_is_a_search(self) -> None:
        """`=~` searches anywhere in the value; `!~` negates."""
        assert check('message =~ "out of mem"')
        assert check('message =~ "(?i)^cuda"')
        assert check('message !~ "^OK"')
        assert not check('message =~ "^out"')


class TestLogic:
    def test_precedence_not_over_and_over_or(self) -> None:
        """`not` binds tighter than `and`, which binds tighter than `or`; parentheses override."""
        assert check('log.level == "INFO" or ml.loss < 1 and ml.step == 100')
        assert not check('(log.level == "INFO" or ml.loss < 1) and ml.step == 1')
        assert check('not log.level == "INFO" and not (ml.step == 1)')

    def test_exists(self) -> None:
        """exists() is true for present fields, including null values, and nested paths."""
        assert check("exists(ml.loss) and exists(nothing) and not exists(error.type)")


class TestMissingFields:
    @pytest.mark.parametrize("src", [
        "x == 1", "x != 1", "x < 1", 'x in ["a"]', 'x not in ["a"]', 'x =~ "."', 'x !~ "."',
    ])
    def test_any_comparison_on_a_missing_field_is_false(self, src: str) -> None:
        """SQL-like rule: whatever the operator, comparing a missing field is false."""
        assert not check(src)

    def test_not_negates_plainly(self) -> None:
        """`not (x == 1)` is true when x is missing: not is ordinary negation."""
        assert check("not (x == 1)")


class TestErrors:
    @pytest.mark.parametrize(("src", "message"), [
        ("", "column 1: empty condition"),
        ("log.level ==", "column 13: expected a string, number, true, false or null, got end of condition"),
        ("a == 1 and", "column 11: expected a field name, '(', 'not' or 'exists', got end of condition"),
        ("(a == 1", "column 8: expected ')', got end of condition"),
        ('a =~ "("', "column 6: invalid regular expression"),
        ("a ~ 1", "column 3: unexpected character '~'"),
        ("a == 1 b", "column 8: unexpected 'b'"),
        ("a < true", "column 5: < needs a number or a string"),
        ("a in [1 2]", "column 9: expected ',' or ']' in list"),
        ("a =~ 3", "column 6: =~ needs a quoted regular expression"),
        ("__import__('os')", "column 11: expected an operator"),
    ])
    def test_errors_name_the_column(self, src: str, message: str) -> None:
        """A bad condition fails at load with a message giving the 1-based column."""
        with pytest.raises(ConditionError) as info:
            compile_condition(src)
        assert message in str(info.value)

    def test_condition_error_is_a_value_error(self) -> None:
        """ConditionError is a ValueError, so msgspec reports it as a config problem."""
        assert issubclass(ConditionError, ValueError)


class TestRegexTimeout:
    def test_runaway_pattern_counts_as_no_match(self) -> None:
        """A user regex that backtracks past the time limit is false instead of stalling (it would match)."""
        pred = compile_condition('m =~ "(a|aa)+$|a+b"')
        assert pred({"m": "aaab"})  # matches when it finishes in time
        assert not pred({"m": "a" * 40 + "b"})
