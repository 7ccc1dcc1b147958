"""The business model and its rules: pure Python, no AWS, no HTTP."""
