"""Principals, the permission catalogue, token format and hashing, name patterns, JWT validation.

The low half of authentication: services import it, so it imports no services (signing in,
which provisions users, lives in ``accessplane.signin``).
"""
