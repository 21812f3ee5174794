"""The offline Rutter sandbox: an HTTP server imitating Rutter's API (2024-08-31) with deterministic data.

from rutter_pipeline.sandbox import Sandbox
with Sandbox(seed=7) as sb:
    base_url = sb.base_url  # http://127.0.0.1:PORT/versioned
"""

from __future__ import annotations

from rutter_pipeline.sandbox.sandbox import DEFAULT_CLIENT_ID, DEFAULT_CLIENT_SECRET, Sandbox
from rutter_pipeline.sandbox.serve import serve_forever
from rutter_pipeline.sandbox.webhooks import sign, verify_signature

__all__ = ["DEFAULT_CLIENT_ID", "DEFAULT_CLIENT_SECRET", "Sandbox", "serve_forever", "sign", "verify_signature"]
