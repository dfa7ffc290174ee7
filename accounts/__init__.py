"""Accounts: organisations, their users, logins, sessions and tokens."""
