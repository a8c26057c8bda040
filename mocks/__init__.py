"""Ségur Sandbox kernel: everything the national services stand on.

The kernel knows no service by its internals: services are found through `mocks.registry`.
"""

__version__ = "0.1.0"
