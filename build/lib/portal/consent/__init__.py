"""Consent: the rules of DESIGN.md section 2 and the one write path every channel goes through."""
