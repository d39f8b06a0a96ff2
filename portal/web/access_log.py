"""The access log without secrets: emailed-link tokens are cut to a short prefix."""

from __future__ import annotations

import copy
import logging
import re

# Paths whose last segment is a bearer token: whoever reads it can reset a password, create a
# login or answer for someone's consent. A short prefix still lets a person match log lines.
_TOKEN_PATH = re.compile(r"^(/(?:reset-password|invite|text-consent)/)([^/?#]+)")
KEEP = 6


def redact(path: str) -> str:
    """`/invite/abcdefghij…/x?y` -> `/invite/abcdef…/x?y`."""
    return _TOKEN_PATH.sub(lambda m: m.group(1) + m.group(2)[:KEEP] + "…", path)


class RedactTokens(logging.Filter):
    """On uvicorn's access logger, whose records carry (client, method, path, version, status)."""

    def filter(self, record: logging.LogRecord) -> bool:
        args = record.args
        if isinstance(args, tuple) and len(args) == 5 and isinstance(args[2], str):
            record.args = (args[0], args[1], redact(args[2]), args[3], args[4])
        return True


def uvicorn_log_config() -> dict:
    """uvicorn's own logging setup, with the token filter on its access logger."""
    from uvicorn.config import LOGGING_CONFIG

    config = copy.deepcopy(LOGGING_CONFIG)
    config.setdefault("filters", {})["redact_tokens"] = {"()": RedactTokens}
    config["loggers"]["uvicorn.access"]["filters"] = ["redact_tokens"]
    return config
