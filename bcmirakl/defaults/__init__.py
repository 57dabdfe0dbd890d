"""Packaged default configuration files."""
