"""Start every provider emulator on 127.0.0.1 and print how to point Restyle at them.

Run: .venv/bin/python -m tests.emulators   (Ctrl+C stops them; needs the test extras)
"""

from __future__ import annotations

import importlib
import signal
import threading

from tests.emulators.kit import Emulator, ServerThread

EMULATORS = {
    "fitinview": ("tests.emulators.fitinview", "FitInViewEmulator"),
    "tryonapi": ("tests.emulators.tryonapi", "TryonApiEmulator"),
    "vistoure": ("tests.emulators.vistoure", "VistoureEmulator"),
    "vtryon": ("tests.emulators.vtryon", "VtryonEmulator"),
    "virtualstaging": ("tests.emulators.virtualstaging", "VirtualStagingEmulator"),
}


def main() -> int:
    servers: list[ServerThread] = []
    print("Restyle provider emulators (jobs finish after 2 s; result links last 10 minutes):\n")
    for provider_id, (module, name) in EMULATORS.items():
        cls: type[Emulator] = getattr(importlib.import_module(module), name)
        emulator = cls(job_delay=2.0, url_ttl=600.0)
        server = ServerThread(emulator.asgi)
        emulator.public_url = server.start()
        servers.append(server)
        upper = provider_id.upper()
        print(f"  export RESTYLE_{upper}_BASE_URL={emulator.public_url}")
        print(f"  export RESTYLE_{upper}_API_KEY={emulator.api_key}")
    print("\nPaste those lines into a second terminal in this folder, then run "
          ".venv/bin/restyle-cli there (README, \"The five remote services\", has examples). "
          "Ctrl+C stops.",
          flush=True)  # the lines reach a pipe (`| tee`) or a test now, not at exit
    stop = threading.Event()
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    stop.wait()
    for server in servers:
        server.stop()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
