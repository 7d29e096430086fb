"""Signing people and integrations in: request authentication, console sessions, OIDC login.

Above ``services`` (it provisions users and syncs groups on sign-in); ``auth`` below holds what
services themselves need.
"""
