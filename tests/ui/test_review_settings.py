"""The settings dialog's Review page: reviewer and tag lists to settings.json "review" and back,
and the window following the new names and tags."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from pytestqt.qtbot import QtBot

from desktop.config import load_settings
from desktop.core.reviews import DEFAULT_TAGS, default_reviewer
from desktop.secrets import SecretStore
from desktop.services import Services
from desktop.ui.review_settings_page import ReviewSettingsPage
from desktop.ui.settings_dialog import SettingsDialog
from tests.ui.review_support import open_window, seed, store_job, until

__all__ = ["open_window"]


@pytest.fixture
def services(home: Path) -> Iterator[Services]:
    svc = Services.open(home, secrets=SecretStore(timeout=2.0))
    try:
        yield svc
    finally:
        svc.close()


async def opened(qtbot: QtBot, services: Services) -> SettingsDialog:
    dialog = SettingsDialog(services)
    qtbot.addWidget(dialog)
    dialog.show()
    await dialog.status_task
    return dialog


def review_page(dialog: SettingsDialog) -> ReviewSettingsPage:
    titles = [dialog.page_list.item(i).text() for i in range(dialog.page_list.count())]
    dialog.page_list.setCurrentRow(titles.index("Review"))
    page = dialog.stack.currentWidget()
    assert isinstance(page, ReviewSettingsPage) and page.objectName() == "reviewSettingsPage"
    return page


def stored(services: Services) -> Any:
    return json.loads(services.paths.settings_file.read_text(encoding="utf-8"))["review"]


def test_reviewer_and_tags_round_trip(qtbot: QtBot, loop: Any, services: Services) -> None:
    async def body() -> None:
        dialog = await opened(qtbot, services)
        page = review_page(dialog)
        assert page.reviewer.text() == default_reviewer()
        assert page.tag_fields["tryon"].toPlainText().splitlines() == list(DEFAULT_TAGS["tryon"])
        page.reviewer.setText("  QA Ana ")
        page.tag_fields["staging"].setPlainText("walls moved\n\nwindow altered\nwalls moved\n")
        assert await dialog.save()
        assert stored(services) == {"reviewer": "QA Ana",
                                    "tags": {"staging": ["walls moved", "window altered"]}}
        assert services.settings.review.tags_for("staging") == ("walls moved",
                                                                "window altered")
        assert load_settings(services.paths).review == services.settings.review
        again = review_page(await opened(qtbot, services))
        assert again.reviewer.text() == "QA Ana"
        assert again.tag_fields["staging"].toPlainText() == "walls moved\nwindow altered"
        # Back to the defaults: nothing of them is written (later defaults then apply).
        again.restore_defaults()
        again.reviewer.clear()
        dialog2 = again.window()
        assert isinstance(dialog2, SettingsDialog) and await dialog2.save()
        assert stored(services) == {"reviewer": default_reviewer(), "tags": {}}

    loop.run_until_complete(body())


def test_a_tag_too_long_is_refused_on_its_page(qtbot: QtBot, loop: Any,
                                               services: Services) -> None:
    async def body() -> None:
        dialog = await opened(qtbot, services)
        page = review_page(dialog)
        page.tag_fields["other"].setPlainText("x" * 80)
        dialog.page_list.setCurrentRow(0)
        assert not await dialog.save()
        assert "longer than 60 characters" in dialog.problem_label.text()
        assert dialog.stack.currentWidget() is page
        assert not services.paths.settings_file.exists() or "review" not in json.loads(
            services.paths.settings_file.read_text(encoding="utf-8"))

    loop.run_until_complete(body())


def test_the_window_follows_the_new_reviewer_and_tags(home: Path, open_window, loop  # type: ignore[no-untyped-def]
                                                      ) -> None:
    seed(home, lambda s: [store_job(s, "job-s", provider="virtualstaging", task="staging")])
    window = open_window()
    wb = window.workbench

    async def body() -> None:
        await wb.show_job("job-s")
        editor = window.result_panel.review_editor
        await until(lambda: editor.subject() is not None)
        wb.open_settings(None)
        dialog = wb._settings_dialog
        await dialog.status_task
        page = review_page(dialog)
        page.reviewer.setText("QA Ana")
        page.tag_fields["staging"].setPlainText("walls moved")
        assert await dialog.save()
        await until(lambda: window.history_panel.review_bar.reviewer() == "QA Ana")
        await until(lambda: editor.chip("walls moved") is not None, what="the new tags")
        assert editor.heading.text() == "Your review (QA Ana)"
        assert window.history_panel.review_bar.tag_combo.findText("walls moved") >= 0
        await wb.idle()
        dialog.reject()

    loop.run_until_complete(body())
