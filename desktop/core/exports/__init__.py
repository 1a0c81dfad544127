"""Exports people hand on: files named by a template, composites (before/after, listing sets
with the "virtually staged" notice), lookbooks, provenance metadata (PNG text, XMP with the
IPTC digital source type, EXIF, C2PA), job bundles and reports.

Pure functions over bytes, jobs and paths: no Qt, no httpx. Callers run them off the GUI
thread. The window's dialog (ui/export_dialog.py) and `restyle-cli export|report|import`
compose them.
"""
