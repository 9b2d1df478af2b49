"""The release, in one place; imported by the package, the cache key and the SARIF driver."""
__version__ = "0.1.0"
