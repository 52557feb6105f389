"""Settings from `TRUSTDESK_*` environment variables and an optional TOML file.

Settings are built once by `get_settings()` and passed down; nothing reads the environment at import
time, so tests can build as many differently configured apps as they like.
"""

from __future__ import annotations

import os
from functools import lru_cache
from pathlib import Path
from typing import Any, Literal
from urllib.parse import urlsplit, urlunsplit

from pydantic import Field, SecretStr, model_validator
from pydantic_settings import (
    BaseSettings,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
    TomlConfigSettingsSource,
)

__all__ = ["Settings", "default_data_dir", "get_settings"]


def default_data_dir() -> Path:
    """One place per user whatever the working directory (e.g. ~/.local/share/trustdesk on
    Linux), so a command run from another folder finds the same database instead of making an
    empty one there."""
    from platformdirs import user_data_path

    return user_data_path("trustdesk", appauthor=False)


def _config_file() -> Path | None:
    explicit = os.environ.get("TRUSTDESK_CONFIG_FILE")
    if explicit:
        return Path(explicit)
    local = Path("trustdesk.toml")
    return local if local.is_file() else None


class Settings(BaseSettings):
    """Effective configuration. Environment beats the TOML file, which beats the defaults."""

    model_config = SettingsConfigDict(env_prefix="TRUSTDESK_", extra="ignore")

    environment: Literal["development", "production", "test"] = Field(
        "development", description="Production refuses weak or missing secrets."
    )
    data_dir: Path = Field(
        default_factory=default_data_dir,
        description="Holds the SQLite database, the key store and the master-key file; default: "
        "the user's data directory (`trustdesk config show` prints it).",
    )
    database_url: str | None = Field(
        None,
        description="SQLAlchemy URL of the main database; default: SQLite in the data directory.",
    )
    keystore_url: str | None = Field(
        None,
        description="SQLAlchemy URL of the key store (wrapped data keys). Kept apart from the main "
        "database so a backup of the main database never holds the keys. Default: "
        "SQLite file keys.db in the data directory.",
    )
    master_key: SecretStr | None = Field(
        None,
        description="Base64 32-byte master key; if unset, read from (or created in) the key file.",
    )
    master_key_file: Path | None = Field(
        None, description="Path of the master-key file; default: <data_dir>/master.key (mode 0600)."
    )
    secret_key: SecretStr | None = Field(
        None,
        description="Signs web sessions and links; default: derived from the master key.",
    )
    cookie_secure: bool = Field(True, description="Send session cookies over HTTPS only.")
    session_max_age_s: int = Field(8 * 3600, description="Web session lifetime in seconds.")
    login_max_failures: int = Field(
        5,
        ge=1,
        description="Failed logins for one username from one client (or wrong codes for one "
        "user's second factor) before each further failure makes it wait.",
    )
    login_lockout_s: int = Field(
        300,
        ge=1,
        description="Longest login back-off: waits double from a quarter of this up to it; "
        "failures are forgotten this long after the last wait ends.",
    )
    login_client_max_failures: int = Field(
        20, ge=1, description="Failed logins from one client, any usernames, before it waits."
    )
    login_username_max_failures: int = Field(
        50,
        ge=1,
        description="Failed logins for one username from all clients together before it waits.",
    )
    log_level: str = Field("INFO", description="Python logging level.")
    host: str = Field("127.0.0.1", description="Address `trustdesk serve` binds to.")
    port: int = Field(8000, description="Port `trustdesk serve` listens on.")
    max_body_bytes: int = Field(
        1024 * 1024, gt=0, description="Largest request body a route accepts (413 beyond)."
    )
    max_bulk_body_bytes: int = Field(
        32 * 1024 * 1024,
        gt=0,
        description="Largest request body of the bulk routes (customers and feedback bulk, "
        "consent filter).",
    )
    trust_half_life_days: float = Field(
        30.0,
        gt=0,
        description="Trust index recency: feedback this many days older weighs half as much.",
    )
    trust_prior_strength: float = Field(
        10.0,
        ge=0,
        description="Trust index shrinkage: pseudo-observations of the parent level's score.",
    )
    trust_alert_fdr: float = Field(
        0.05,
        gt=0,
        lt=1,
        description="Alerts: false discovery rate per daily window (Benjamini-Hochberg).",
    )
    cases_classifier_dir: Path | None = Field(
        None,
        description="Model directory of the intent classifier that routes complaint cases (from "
        "`trustdesk model train --task classify`); default: <data_dir>/models/intents when it "
        "exists, else keyword rules.",
    )
    consent_policy_file: Path | None = Field(
        None,
        description="YAML consent policy (purposes, channels, legal bases, regimes); default: the "
        "policy shipped in trustdesk/privacy/default_policy.yaml.",
    )
    consent_link_max_age_s: int = Field(
        7 * 24 * 3600,
        gt=0,
        description="How long a preference-centre link (and a form it shows) stays valid.",
    )
    fraud_max_amount: float = Field(
        50_000.0,
        gt=0,
        description="Fraud intake: larger amounts are refused as absurd (in the payment's units).",
    )
    fraud_clock_skew_s: int = Field(
        300,
        ge=0,
        description="Fraud intake: how far in the future a transaction's time may lie.",
    )
    fraud_label_delay_days: int = Field(
        7,
        ge=0,
        description="Fraud: how late fraud labels usually arrive (training gap; labels in "
        "imported files count as known this many days after their transaction).",
    )
    fraud_history_days: int = Field(
        75,
        ge=1,
        description="Fraud: days of transactions the scorer loads into memory at start-up.",
    )
    fraud_refresh_s: float = Field(
        30.0,
        gt=0,
        le=3600,
        description="Fraud: how often each server process catches its scorer's history up with "
        "payments other processes scored (the window in which another worker may not count one).",
    )
    jobs_in_server: bool = Field(
        True,
        description="Run due background jobs (recompute, clocks, delivery, retention) inside "
        "`trustdesk serve`; turn off when `trustdesk worker` processes run them instead.",
    )
    jobs_poll_s: float = Field(
        5.0, gt=0, le=3600, description="How often a job runner looks for due jobs (seconds)."
    )
    public_url: str | None = Field(
        None,
        description="Address customers reach TrustDesk at, for links sent to them; default: "
        "http://<host>:<port>.",
    )

    smtp_host: str = Field("127.0.0.1", description="Outbox email: SMTP server host.")
    smtp_port: int = Field(
        25, ge=1, le=65535, description="Outbox email: SMTP port (587 STARTTLS, 465 implicit TLS)."
    )
    smtp_security: Literal["none", "starttls", "tls"] = Field(
        "none",
        description="Outbox email: `starttls` upgrades the connection, `tls` is implicit TLS "
        "(port 465), `none` is plain SMTP (a local relay or the demo mailbox only).",
    )
    smtp_username: str | None = Field(None, description="Outbox email: SMTP login, if any.")
    smtp_password: SecretStr | None = Field(None, description="Outbox email: SMTP password.")
    smtp_from: str = Field(
        "TrustDesk <trustdesk@localhost>",
        description="Outbox email: the From address (its domain also names the Message-IDs).",
    )
    smtp_rate: float = Field(
        0.0, ge=0, description="Outbox email: most messages per second (0: no limit)."
    )
    smtp_connections: int = Field(
        8,
        ge=1,
        le=32,
        description="Outbox email: SMTP connections one delivery run keeps open and drives in "
        "lockstep (their round trips overlap).",
    )
    smtp_timeout_s: float = Field(30.0, gt=0, description="Outbox email: socket timeout.")
    outbox_max_attempts: int = Field(
        8, ge=1, description="Outbox: attempts before a message that keeps failing is dead."
    )
    outbox_backoff_s: float = Field(
        60.0,
        gt=0,
        description="Outbox: wait before the first retry; each further retry waits twice as "
        "long (with jitter), at most 6 hours.",
    )
    outbox_lease_s: float = Field(
        300.0,
        gt=0,
        description="Outbox: how long a delivery run owns the messages it claimed; a run that "
        "died is recovered after this.",
    )
    webhook_timeout_s: float = Field(10.0, gt=0, description="Outbox webhooks: request timeout.")
    trustcentre_notice_days: int = Field(
        30,
        ge=0,
        le=365,
        description="Trust centre: days between telling subscribers of a new recipient of "
        "personal data (subprocessor) and the earliest day it may start.",
    )

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        sources: list[PydanticBaseSettingsSource] = [init_settings, env_settings]
        toml = _config_file()
        if toml is not None:
            sources.append(TomlConfigSettingsSource(settings_cls, toml_file=toml))
        return tuple(sources)

    @model_validator(mode="after")
    def _refuse_weak_production_secrets(self) -> Settings:
        if self.environment == "production":
            if self.secret_key is not None and len(self.secret_key.get_secret_value()) < 32:
                raise ValueError(
                    "TRUSTDESK_SECRET_KEY must be at least 32 characters in production"
                )
            if not self.cookie_secure:
                raise ValueError("TRUSTDESK_COOKIE_SECURE cannot be false in production")
        return self

    @property
    def effective_database_url(self) -> str:
        return self.database_url or f"sqlite:///{self.data_dir / 'trustdesk.db'}"

    @property
    def sqlite_database_path(self) -> Path | None:
        """The main database's file when it is a SQLite file, else None."""
        from sqlalchemy.engine import make_url

        url = make_url(self.effective_database_url)
        if url.get_backend_name() != "sqlite" or url.database in (None, "", ":memory:"):
            return None
        return Path(url.database)

    @property
    def effective_keystore_url(self) -> str:
        return self.keystore_url or f"sqlite:///{self.data_dir / 'keys.db'}"

    @property
    def effective_master_key_file(self) -> Path:
        return self.master_key_file or self.data_dir / "master.key"

    def public_view(self) -> dict[str, Any]:
        """Every setting with secrets and passwords in URLs masked, for `config show`."""
        out: dict[str, Any] = {}
        for name, value in self.model_dump().items():
            if isinstance(value, SecretStr) or name in {"master_key", "secret_key"}:
                out[name] = None if value is None else "********"
            elif isinstance(value, Path):
                out[name] = str(value)
            else:
                out[name] = value
        out["database_url"] = _mask_url(self.effective_database_url)
        out["keystore_url"] = _mask_url(self.effective_keystore_url)
        out["master_key_file"] = str(self.effective_master_key_file)
        out["config_file"] = str(_config_file()) if _config_file() else None
        return out


def _mask_url(url: str) -> str:
    """The URL with its password replaced by `***` (as SQLAlchemy renders it, without importing
    SQLAlchemy: `config show` stays quick)."""
    parts = urlsplit(url)
    if parts.password is None:
        return url
    user, _, host = parts.netloc.rpartition("@")
    name = user.partition(":")[0]
    return urlunsplit(parts._replace(netloc=f"{name}:***@{host}"))


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    return Settings()
