"""Lối Về: the gateway app (channels, storage, scheduler, i18n, admin CLI)."""

from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parent.parent
