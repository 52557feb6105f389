"""The access export: the registry of sections (every capability's, wired by the manifest),
privacy's own sections, and the ZIP built from them."""
