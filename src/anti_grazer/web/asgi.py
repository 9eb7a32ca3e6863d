"""The ASGI entry point uvicorn's workers import: settings from the environment."""

from __future__ import annotations

from fastapi import FastAPI

from anti_grazer.logs import configure_logging
from anti_grazer.settings import load_settings
from anti_grazer.web.app import create_app


def app_from_environment() -> FastAPI:
    """uvicorn factory: configure logs and build the app from ``ANTI_GRAZER_*``."""
    settings = load_settings()
    configure_logging(settings.log_level)
    return create_app(settings)
