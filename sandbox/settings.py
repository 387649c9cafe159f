"""Runtime settings, read from ``SANDBOX_*`` environment variables (pydantic-settings).

Everything the platform keeps on disk lives under one home directory; the zones of
ARCHITECTURE.md are sub-directories of it. Key material lives in ``secrets/`` with 0600
permissions and never in the database.
"""

from __future__ import annotations

from functools import cached_property
from pathlib import Path

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="SANDBOX_", extra="ignore")

    home: Path = Field(default=Path(".sandbox"), description="platform home directory")
    database_url: str | None = Field(default=None, description="SQLAlchemy URL; default SQLite under home")
    spark_master: str = "local[*]"
    spark_driver_memory: str = "2g"
    spark_driver_host: str = Field(
        default="127.0.0.1",
        description="the address a cluster's executors reach this process's Spark driver at (a container's "
        "service name); on loopback the driver binds to loopback only",
    )
    spark_driver_port: int | None = Field(
        default=None,
        description="the first port a driver takes (and the next 33): where a firewall admits only those; "
        "default: any",
    )
    spark_netns: str | None = Field(
        default=None,
        description="the network namespace a local cluster's Spark runs in (deploy/local-cluster): a promoted "
        "job's run process is started there, to run its plans on the cluster",
    )
    gate_warmup_rows: int = Field(
        default=200_000,
        description="synthetic rows the production gate warms up on while the job runs; 0: none",
    )
    ray_address: str | None = Field(default=None, description="Ray cluster address; default: start locally")
    ray_token_file: Path | None = Field(
        default=None, description="the Ray cluster's auth token (token authentication), with ray_address"
    )
    policy_file: Path | None = None
    user: str | None = Field(default=None, description="local user the CLI acts as")
    ingest_spark_threshold_bytes: int = Field(
        default=2 * 1024**3, description="uploads larger than this are converted with Spark, not Arrow"
    )
    ingest_max_field_chars: int = Field(
        default=32_767,
        description="longest text cell an upload may hold, in characters (Excel's cell limit); see catalog.ingest.hygiene",
    )

    @cached_property
    def home_dir(self) -> Path:
        return self.home.expanduser().resolve()

    @property
    def db_url(self) -> str:
        return self.database_url or f"sqlite:///{self.home_dir / 'shuyu.db'}"

    @property
    def raw_dir(self) -> Path:
        return self.home_dir / "raw"

    @property
    def quarantine_dir(self) -> Path:
        return self.home_dir / "quarantine"

    @property
    def staging_dir(self) -> Path:
        return self.home_dir / "staging"

    @property
    def samples_dir(self) -> Path:
        return self.home_dir / "samples"

    @property
    def products_dir(self) -> Path:
        return self.home_dir / "products"

    @property
    def secrets_dir(self) -> Path:
        return self.home_dir / "secrets"

    @property
    def logs_dir(self) -> Path:
        """Engine output (Spark's and the JVM's log lines) that must not reach a user's terminal."""
        return self.home_dir / "logs"

    @property
    def work_dir(self) -> Path:
        """Scratch space for engines (Spark local dirs, Ray temp)."""
        return self.home_dir / "work"


def get_settings(**overrides) -> Settings:
    return Settings(**overrides)
