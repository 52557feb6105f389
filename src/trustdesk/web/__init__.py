"""The server-rendered web shell shared by every capability's pages."""

__all__: list[str] = []
