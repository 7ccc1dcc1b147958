"""Placeholder; replaced below."""
def spec():
    return {}
