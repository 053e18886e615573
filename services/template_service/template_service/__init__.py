"""Envoxy reference service: a products API built only on Envoxy's public API."""
