"""Local HTTP servers that behave like each provider's documented API (DESIGN.md section 8)."""
