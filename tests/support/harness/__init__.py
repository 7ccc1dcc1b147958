"""How the app runs under test: the in-process AWS, the local runtime, stage settings, canned AWS events, the admin CLI, a headless browser, overlapping threads."""
