"""TrustDesk: measure, earn, protect and rebuild customer trust."""

__version__ = "0.1.0"
__all__ = ["__version__"]
