"""Inbound texts: reading keywords in every language, and what each reply does."""
