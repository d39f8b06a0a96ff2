"""Accounts: logins, passwords, server-side sessions and portal invitations."""
