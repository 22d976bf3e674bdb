"""The single version string of rbdpy."""

__version__ = "0.1.0"
