"""Principals, the permission catalogue, token format and hashing."""
