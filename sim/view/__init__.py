"""Live view."""
