"""Settings come from the environment; secrets never reach the logs."""

from __future__ import annotations

import logging

import pytest
from pydantic import ValidationError

from bot import logs
from bot.config import ConfigError, Settings


def test_settings_from_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PALABRE_TELEGRAM_TOKEN", "123:abc")
    monkeypatch.setenv("PALABRE_ADMIN_IDS", "11, 22,33")
    monkeypatch.setenv("PALABRE_TELEGRAM_BASE_URL", "http://127.0.0.1:8081/bot/")
    monkeypatch.setenv("PALABRE_TIMEZONE", "Africa/Dakar")
    cfg = Settings(_env_file=None)  # type: ignore[call-arg]
    assert cfg.admin_ids == frozenset({11, 22, 33})
    assert cfg.token() == "123:abc"
    assert cfg.telegram_file_url == "http://127.0.0.1:8081/file/bot"
    assert cfg.default_language == "fr"
    assert "123:abc" not in repr(cfg)


def test_missing_token_and_bad_values(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("PALABRE_TELEGRAM_TOKEN", raising=False)
    with pytest.raises(ConfigError, match="PALABRE_TELEGRAM_TOKEN is not set"):
        Settings(_env_file=None).token()  # type: ignore[call-arg]
    monkeypatch.setenv("PALABRE_TIMEZONE", "Nowhere/City")
    with pytest.raises(ValidationError):
        Settings(_env_file=None)  # type: ignore[call-arg]


def test_token_is_redacted_everywhere(capsys: pytest.CaptureFixture[str]) -> None:
    secret = "987654:SECRET-token"
    logs.add_secret(secret)
    logs.setup()
    log = logging.getLogger("palabre.test")
    try:
        raise RuntimeError(f"POST https://api.telegram.org/bot{secret}/getMe failed")
    except RuntimeError:
        log.exception("call to %s failed", f"/bot{secret}/sendMessage")
    err = capsys.readouterr().err
    assert secret not in err
    assert err.count("[REDACTED]") == 2
