"""Local HTTP servers that behave like each provider's documented API."""
