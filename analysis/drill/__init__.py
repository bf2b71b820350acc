"""Drill packages built from run folders (issue 13): MSEL, situation manual, evaluation guide."""
