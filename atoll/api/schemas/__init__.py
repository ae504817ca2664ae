"""Wire formats of the admin API: request bodies (strict) and response bodies."""
