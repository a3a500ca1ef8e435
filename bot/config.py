"""Typed settings read from the environment and `.env` (the only place that reads them)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

# The languages of content: names in the network file, questionnaire texts, announcement
# versions, the audience "by language".
Language = Literal["fr", "en", "pt", "es"]
LANGUAGES: tuple[Language, ...] = ("fr", "en", "pt", "es")
# What a person reads the bot in: one of the languages, or a variant with its own catalog.
# "pt" is the Portuguese of Portugal and of Africa (Mozambique, Cabo Verde, Guinea-Bissau,
# Angola, São Tomé); "pt_BR" Brazilian Portuguese. Both read the "pt" content.
UiLanguage = Literal["fr", "en", "pt", "pt_BR", "es"]
UI_LANGUAGES: tuple[UiLanguage, ...] = ("fr", "en", "pt", "pt_BR", "es")


def base_language(language: str) -> Language:
    """The content language a reader of `language` reads ('pt_BR' → 'pt')."""
    base = language.split("_")[0]
    return base if base in LANGUAGES else "fr"


class Settings(BaseSettings):
    """Palabre's configuration; every field maps to a `PALABRE_*` variable."""

    model_config = SettingsConfigDict(
        env_prefix="PALABRE_", env_file=".env", env_file_encoding="utf-8", extra="ignore"
    )

    telegram_token: SecretStr | None = None
    telegram_base_url: str = "https://api.telegram.org/bot"
    database: Path = Path("data/palabre.db")
    media_dir: Path = Path("data/media")
    default_language: UiLanguage = "fr"
    timezone: str = "UTC"
    admin_ids: Annotated[frozenset[int], NoDecode] = Field(default_factory=frozenset)
    # Telegram's flood limits; raise them only for a bot whose limits Telegram raised.
    broadcast_rate: float = Field(default=30.0, gt=0)  # messages per second, all chats together
    chat_rate: float = Field(default=1.0, gt=0)  # messages per second in one private chat (bursts of 3)
    group_rate: float = Field(default=20.0, gt=0)  # messages per minute in one group
    # Files larger than this are refused (Telegram lets bots download 20 MB at most).
    max_download_mb: float = Field(default=20.0, gt=0, le=20.0)
    # WhatsApp Business Cloud API (enabled when the token is set); see docs/whatsapp.md.
    whatsapp_token: SecretStr | None = None
    whatsapp_phone_number_id: str | None = None
    whatsapp_app_secret: SecretStr | None = None
    whatsapp_verify_token: SecretStr | None = None
    whatsapp_base_url: str = "https://graph.facebook.com/v23.0"
    # Only for `palabre whatsapp templates --check` (templates belong to the business account).
    whatsapp_business_account_id: str | None = None
    webhook_listen: str = "127.0.0.1:8080"  # host:port of the webhook receiver (behind TLS)

    @property
    def max_download_bytes(self) -> int:
        return int(self.max_download_mb * 1024 * 1024)

    @field_validator("admin_ids", mode="before")
    @classmethod
    def _split_ids(cls, value: object) -> object:
        # The variable is a plain comma-separated list, not JSON.
        if isinstance(value, str):
            return frozenset(int(part) for part in value.replace(";", ",").split(",") if part.strip())
        if isinstance(value, int):
            return frozenset({value})
        return value

    @field_validator("default_language", mode="before")
    @classmethod
    def _language_code(cls, value: object) -> object:
        # "pt-BR", "pt-br" as people write it; "pt_BR" as the catalogs are named.
        if isinstance(value, str) and value.replace("-", "_").lower() == "pt_br":
            return "pt_BR"
        return value

    @field_validator("timezone")
    @classmethod
    def _known_timezone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise ValueError(f"unknown time zone {value!r}") from exc
        return value

    @field_validator("telegram_base_url", "whatsapp_base_url")
    @classmethod
    def _strip_slash(cls, value: str) -> str:
        return value.rstrip("/")

    @field_validator("webhook_listen")
    @classmethod
    def _host_port(cls, value: str) -> str:
        host, _, port = value.rpartition(":")
        # Port 0: any free port (the tests' choice; the bound port is logged).
        if not host or not port.isdigit() or not 0 <= int(port) < 65536:
            raise ValueError(f"expected host:port, got {value!r}")
        return value

    @property
    def whatsapp_enabled(self) -> bool:
        return self.whatsapp_token is not None and bool(
            self.whatsapp_token.get_secret_value().strip())

    def whatsapp_secrets(self) -> tuple[str, str, str, str]:
        """Return (token, phone number id, app secret, verify token) or raise a one-line error."""
        missing = [name for name, value in (
            ("PALABRE_WHATSAPP_TOKEN", self.whatsapp_token),
            ("PALABRE_WHATSAPP_PHONE_NUMBER_ID", self.whatsapp_phone_number_id),
            ("PALABRE_WHATSAPP_APP_SECRET", self.whatsapp_app_secret),
            ("PALABRE_WHATSAPP_VERIFY_TOKEN", self.whatsapp_verify_token),
        ) if value is None or not _plain(value).strip()]
        if missing:
            raise ConfigError(f"WhatsApp is enabled but {', '.join(missing)} is not set")
        assert self.whatsapp_token is not None and self.whatsapp_app_secret is not None
        assert self.whatsapp_verify_token is not None and self.whatsapp_phone_number_id
        return (self.whatsapp_token.get_secret_value().strip(), self.whatsapp_phone_number_id,
                self.whatsapp_app_secret.get_secret_value(),
                self.whatsapp_verify_token.get_secret_value())

    @property
    def telegram_file_url(self) -> str:
        """Return the file download base derived from the API base (`…/bot` → `…/file/bot`)."""
        base = self.telegram_base_url
        root = base[: -len("/bot")] if base.endswith("/bot") else base
        return f"{root}/file/bot"

    def token(self) -> str:
        """Return the bot token or raise a one-line configuration error."""
        if self.telegram_token is None or not self.telegram_token.get_secret_value().strip():
            raise ConfigError(
                "PALABRE_TELEGRAM_TOKEN is not set: get a token from @BotFather and put it in .env"
            )
        return self.telegram_token.get_secret_value().strip()


def _plain(value: SecretStr | str) -> str:
    return value.get_secret_value() if isinstance(value, SecretStr) else value


class ConfigError(Exception):
    """A configuration problem reported to the operator as one line."""
