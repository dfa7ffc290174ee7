"""Unified social credit code (统一社会信用代码), GB 32100-2015.

18 characters over the 31-symbol alphabet ``0-9 A-H J-N P-R T U W-Y`` (no I, O, S, V, Z).  The last
character is a check digit: ``C18 = 31 - (Σ Ci·Wi mod 31)`` with ``Wi = 3^(i-1) mod 31`` (31 → 0).
"""

from __future__ import annotations

ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"
_VALUE = {ch: i for i, ch in enumerate(ALPHABET)}
WEIGHTS = tuple(pow(3, i, 31) for i in range(17))  # 1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28


def check_digit(first17: str) -> str:
    """The GB 32100-2015 check character for the first 17 characters."""
    if len(first17) != 17 or any(ch not in _VALUE for ch in first17):
        raise ValueError("need 17 characters from the credit-code alphabet")
    total = sum(_VALUE[ch] * w for ch, w in zip(first17, WEIGHTS, strict=True))
    return ALPHABET[(31 - total % 31) % 31]


def credit_code_problem(code: str) -> tuple[str, str] | None:
    """``None`` if ``code`` is valid, else (Chinese, English) messages saying what is wrong."""
    if len(code) != 18:
        return (
            f"统一社会信用代码应为18位，实际为{len(code)}位",
            f"A unified social credit code has 18 characters, got {len(code)}",
        )
    bad = sorted({ch for ch in code if ch not in _VALUE})
    if bad:
        shown = "".join(bad)
        return (
            f"统一社会信用代码含有无效字符：{shown}（不使用 I、O、S、V、Z）",
            f"Invalid characters in the credit code: {shown} (I, O, S, V and Z are not used)",
        )
    expected = check_digit(code[:17])
    if code[17] != expected:
        return (
            f"统一社会信用代码校验位错误：应为 {expected}，实际为 {code[17]}",
            f"Wrong check digit in the credit code: expected {expected}, got {code[17]}",
        )
    return None


def normalise_credit_code(code: str) -> str:
    return code.strip().upper()


def is_valid_credit_code(code: str) -> bool:
    return credit_code_problem(normalise_credit_code(code)) is None


def make_credit_code(body17: str) -> str:
    """Complete a 17-character body with its check digit (used by the demo seed)."""
    return body17 + check_digit(body17)
