"""Meta's webhook signature: `X-Hub-Signature-256: sha256=<HMAC-SHA256 of the raw body>`."""

from __future__ import annotations

import hashlib
import hmac

HEADER = "X-Hub-Signature-256"


def sign(body: bytes, app_secret: str) -> str:
    """The header value Meta sends with `body`."""
    digest = hmac.new(app_secret.encode(), body, hashlib.sha256).hexdigest()
    return f"sha256={digest}"


def verify(body: bytes, header: str | None, app_secret: str) -> bool:
    """Whether `header` signs `body` with the app secret (constant-time comparison)."""
    if not header or not header.startswith("sha256=") or not app_secret:
        return False
    return hmac.compare_digest(sign(body, app_secret), header.strip())
