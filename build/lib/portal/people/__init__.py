"""People: families, contacts and students; the roster import and the demo organization."""
