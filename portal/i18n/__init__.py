"""Spanish beside English: the supported languages, each request's language, the catalogs."""
