"""Field types every credential source shares (environment settings and Prefect Blocks alike).

A base URL without scheme or host, or an empty token, fails where it is read, naming the field, instead of
after a run's worth of retries on every call.
"""

from __future__ import annotations

from typing import Annotated
from urllib.parse import urlsplit

from pydantic import AfterValidator, SecretStr

__all__ = ["HttpUrlText", "Token", "check_http_url", "check_token"]


def check_http_url(value: str) -> str:
    """`value` stripped, or `ValueError` when it is not an http(s) URL with a host."""
    parts = urlsplit(value.strip())
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ValueError("must be an http(s) URL with a host, like https://host.example/path")
    return value.strip()


def check_token(value: SecretStr) -> SecretStr:
    """`value`, or `ValueError` when it is empty or blank (a UI form saved without the secret)."""
    if not value.get_secret_value().strip():
        raise ValueError("must not be empty")
    return value


HttpUrlText = Annotated[str, AfterValidator(check_http_url)]
Token = Annotated[SecretStr, AfterValidator(check_token)]
