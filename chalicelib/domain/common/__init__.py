"""Rules every capability shares: actions on resources (actions), stored files and their names (files)."""
