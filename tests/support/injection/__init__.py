"""Faults injected at AWS calls and the sweeps that walk a flow through them."""
