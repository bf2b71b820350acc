"""``evacsim view`` (argparse wiring only)."""

from __future__ import annotations

import argparse


def add_commands(sub: argparse._SubParsersAction) -> None:
    """Register ``evacsim view``."""
