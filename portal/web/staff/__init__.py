"""The staff console under /staff/: people, consent actions, families, imports, proof, settings."""
