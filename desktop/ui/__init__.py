"""Qt widgets. They talk to core through the engine and the history store, never to httpx."""
