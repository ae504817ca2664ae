"""Schema migrations (Alembic), driven by `atoll-manage db ...`."""

from __future__ import annotations

import io
import pathlib

from alembic import command
from alembic.config import Config

SCRIPT_LOCATION = pathlib.Path(__file__).parent / "migrations"


def alembic_config(url: str, output: io.StringIO | None = None) -> Config:
    config = Config(stdout=output) if output is not None else Config()
    config.set_main_option("script_location", str(SCRIPT_LOCATION))
    # A '%' in a password must not be read as interpolation by configparser.
    config.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return config


def upgrade(url: str, revision: str = "head") -> None:
    command.upgrade(alembic_config(url), revision)


def downgrade(url: str, revision: str) -> None:
    command.downgrade(alembic_config(url), revision)


def current(url: str) -> str:
    output = io.StringIO()
    command.current(alembic_config(url, output))
    return output.getvalue().strip()
