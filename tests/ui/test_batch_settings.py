"""Price per credit on a provider's settings page: saved in settings.json, read back when the
dialog opens again, and 'Not set' (0) saves none; the offline provider has no such field."""

from __future__ import annotations

import asyncio

from pytestqt.qtbot import QtBot

from desktop.services import Services
from tests.ui.test_settings_dialog import opened, services, settings_json

__all__ = ["services"]  # the fixture


def test_price_per_credit_is_saved_and_shown_again(qtbot: QtBot,
                                                   loop: asyncio.AbstractEventLoop,
                                                   services: Services) -> None:
    async def body() -> None:
        dialog = await opened(qtbot, services)
        page = dialog.pages["fitinview"]
        assert page.price.text() == "Not set" and page.price_per_credit() is None
        assert not dialog.pages["local"].price.isVisibleTo(dialog)
        page.price.setValue(0.125)
        assert await dialog.save() is True
        assert settings_json(services)["providers"]["fitinview"]["price_per_credit"] == 0.125
        assert services.settings.prices(["fitinview", "local"]) == {"fitinview": 0.125}
        dialog.reject()

        again = await opened(qtbot, services)
        assert again.pages["fitinview"].price.value() == 0.125
        again.pages["fitinview"].price.setValue(0)
        assert await again.save() is True
        assert settings_json(services)["providers"]["fitinview"]["price_per_credit"] is None
        assert services.settings.prices(["fitinview"]) == {}
        again.reject()

    loop.run_until_complete(body())
