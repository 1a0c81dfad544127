"""Pure-Python core of Restyle: no Qt, no httpx."""
