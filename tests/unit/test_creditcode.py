import pytest
from hypothesis import given
from hypothesis import strategies as st

from qianfan.creditcode import (
    ALPHABET,
    WEIGHTS,
    check_digit,
    credit_code_problem,
    is_valid_credit_code,
    make_credit_code,
)

# The example code widely cited with the GB 32100-2015 check-digit algorithm.
KNOWN_VALID = ["91350100M000100Y43"]


def test_weights_are_powers_of_three_mod_31() -> None:
    assert WEIGHTS == (1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28)


@pytest.mark.parametrize("code", KNOWN_VALID)
def test_known_codes_valid(code: str) -> None:
    assert credit_code_problem(code) is None
    assert is_valid_credit_code(code.lower())


body = st.text(alphabet=ALPHABET, min_size=17, max_size=17)


@given(body)
def test_generated_codes_validate(b: str) -> None:
    assert is_valid_credit_code(make_credit_code(b))


@given(body, st.integers(0, 16), st.sampled_from(ALPHABET))
def test_any_single_substitution_is_caught(b: str, pos: int, ch: str) -> None:
    code = make_credit_code(b)
    altered = code[:pos] + ch + code[pos + 1 :]
    assert is_valid_credit_code(altered) == (altered == code)


def test_problems_are_explained() -> None:
    zh, en = credit_code_problem("91350100M000100Y44")  # type: ignore[misc]
    assert "校验位" in zh and "expected 3" in en
    assert "18位" in credit_code_problem("123")[0]  # type: ignore[index]
    assert "I、O、S、V、Z" in credit_code_problem("91350100M000I00Y43")[0]  # type: ignore[index]
    with pytest.raises(ValueError):
        check_digit("short")
