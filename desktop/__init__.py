"""Restyle: a desktop workbench for generative image services."""

__version__ = "0.1.0"
