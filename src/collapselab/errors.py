"""The one exception type for bad input: entry points print it as a single line and exit 2 (``fail``)."""

import sys
from typing import NoReturn


def fail(msg: str) -> NoReturn:
    """``error: <msg>`` on stderr, exit 2: how every entry point and script reports bad input."""
    print(f"error: {msg}", file=sys.stderr)
    sys.exit(2)


class UserError(Exception):
    """Bad input (config value, path, checkpoint): shown to the user as one line, no traceback."""


class ConfigError(UserError):
    """A config value outside what is allowed. ``key`` is the full dotted key."""

    def __init__(self, key: str, value: object, allowed: str):
        self.key, self.value, self.allowed = key, value, allowed
        super().__init__(f"{key}={value!r} is not allowed ({allowed})")
