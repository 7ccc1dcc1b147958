"""The admin CLI: ``python -m chalicelib.admin <command>``."""
