"""Helixdesk: a self-hosted intelligent customer-service platform for banks."""

__version__ = "0.1.0"
