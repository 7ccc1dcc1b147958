"""One blueprint per surface: each translates its HTTP dialect to service calls."""
