"""Messaging: the outbox, its dispatcher, named emails, and the email and SMS providers."""
