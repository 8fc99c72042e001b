"""Audit of published summary statistics."""
