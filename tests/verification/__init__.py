"""Verification tests: numbers derivable by hand, derivation next to the assertion."""
