"""Small shared definitions with no imports beyond the standard library
(cheap enough for the per-evaluation runner)."""

import sys

__all__ = ["FROZEN"]

# Keyword arguments for frozen dataclasses: slotted too where Python allows
# (slots need 3.10; setup.cfg allows 3.9).
FROZEN = {"frozen": True, "slots": True} if sys.version_info >= (3, 10) else {"frozen": True}
