"""The emulator's HTTP surface, one router per Mirakl API family plus the `/_sandbox` control router."""

from __future__ import annotations
