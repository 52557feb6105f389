"""The access export: the registry of sections, the sections TrustDesk's own capabilities add,
and the ZIP built from them."""
