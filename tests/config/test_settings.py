"""Settings come from typed environment helpers that refuse bad values."""

from __future__ import annotations

import pytest
from django.core.exceptions import ImproperlyConfigured

from config.settings import env_bool, env_int, env_str


@pytest.mark.parametrize(
    ("raw", "expected"), [("true", True), ("1", True), ("No", False), ("", False)]
)
def test_env_bool(monkeypatch: pytest.MonkeyPatch, raw: str, expected: bool) -> None:
    monkeypatch.setenv("SOME_FLAG", raw)

    assert env_bool("SOME_FLAG", not expected) is expected


def test_env_bool_refuses_other_words(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SOME_FLAG", "maybe")

    with pytest.raises(ImproperlyConfigured):
        env_bool("SOME_FLAG", False)


def test_env_int_refuses_text(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SOME_NUMBER", "four")

    with pytest.raises(ImproperlyConfigured):
        env_int("SOME_NUMBER", 1)


def test_defaults_apply_when_unset(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("SOME_NUMBER", raising=False)

    assert (env_int("SOME_NUMBER", 4), env_str("SOME_NUMBER", "x")) == (4, "x")
