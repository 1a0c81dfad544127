"""The window's provider tools (the Tools menu): past renders and more variations, bulk
staging, furniture analysis and multi-view checks (Virtual Staging AI); recolour tasks and the
base pose task picker (vtryon); the account's jobs and imports (FitInView). The data and the
sentences come from `desktop.core.provider_tools`; `controller.ToolsController` wires it."""

from desktop.ui.provider_tools.controller import ToolsController

__all__ = ["ToolsController"]
