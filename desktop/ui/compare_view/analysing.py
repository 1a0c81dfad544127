"""The difference and structure modes' settings and figures (a mixin of CompareView).

The pictures are computed by PairAnalysis (analysis.py) in a worker; this part builds the
request for the pair shown from the toolbar's settings, words what the pane shows meanwhile,
and answers the view's public questions (`difference_image`, `structure_fraction`, ...). The
service's furniture mask is used only when A is the before image it was made for.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from PySide6.QtGui import QImage

from desktop.ui.compare_view import analysis
from desktop.ui.compare_view.analysis import Request
from desktop.ui.compare_view.model import usable
from desktop.ui.compare_view.pair_pane import Analysed

if TYPE_CHECKING:
    from desktop.ui.compare_view.view import CompareView

    _Base = CompareView
else:
    _Base = object


class Analysing(_Base):  # type: ignore[misc,valid-type]

    def set_difference_threshold(self, threshold: int) -> None:
        threshold = max(0, min(254, int(threshold)))
        if self._toolbar.threshold.value() != threshold:
            self._toolbar.threshold.setValue(threshold)  # calls back here once, unchanged
        self._tools.inspector.set_threshold(threshold)
        self._refresh()

    def difference_threshold(self) -> int:
        return self._toolbar.threshold.value()

    def set_tolerance(self, pixels: int) -> None:
        """Pixels of misalignment the difference ignores (0, 1, 2 or 4)."""
        combo = self._toolbar.tolerance
        found = combo.findData(pixels)
        if found >= 0:
            combo.setCurrentIndex(found)

    def set_heat_opacity(self, percent: int) -> None:
        self._toolbar.heat_opacity.setValue(percent)

    def set_blend_opacity(self, percent: int) -> None:
        self._toolbar.blend_opacity.setValue(percent)

    def set_furniture_mask(self, mask: QImage | None, source: str = "") -> None:
        """A service's furniture mask of the before image shown (white = furniture); None goes
        back to the local estimate. `source` names the service ("Virtual Staging AI")."""
        self._mask = usable(mask)
        self._mask_source = source if self._mask is not None else ""
        self._refresh()

    def set_mask_provider(self, title: str | None) -> None:
        """Offer "Use <title>'s furniture mask" in the structure mode (None: no offer)."""
        self._mask_provider = title or None
        self._refresh()

    def _request(self, kind: str) -> Request | None:
        sides = self._sides()
        if sides is None or sides[0].image is None or sides[1].image is None:
            return None
        a, b, a_is_before = sides
        bar = self._toolbar
        if kind == analysis.DIFFERENCE:
            return Request(kind, a.image, b.image, bar.threshold.value(),
                           int(bar.tolerance.currentData() or 0),
                           bar.heat_opacity.value() / 100)
        mask = self._mask if a_is_before else None
        return Request(kind, a.image, b.image, bar.threshold.value(), mask=mask)

    def _analysed(self, kind: str) -> Analysed:
        request = self._request(kind)
        assert request is not None
        noun = "Difference" if kind == analysis.DIFFERENCE else "Structure"
        found = self._analysis.result(request)
        if found is not None:
            figure = f"{found.fraction * 100:.1f} %"
            headline = f"{noun} · {figure} changed" if kind == analysis.DIFFERENCE else \
                f"{noun} · {figure} changed outside the furniture"
            return Analysed(found.image, headline, "")
        error = self._analysis.error(request)
        if error:
            return Analysed(None, noun, error)
        self._analysis.request(request)
        return Analysed(None, noun, "Computing difference…" if kind == analysis.DIFFERENCE
                        else "Checking the structure…")

    def _found(self, kind: str) -> analysis.Result | None:
        request = self._request(kind)
        return self._analysis.result(request) if request is not None else None

    def difference_image(self) -> QImage | None:
        """The heat map of the pair shown, once computed (None while computing)."""
        found = self._found(analysis.DIFFERENCE)
        return found.image if found else None

    def difference_fraction(self) -> float | None:
        found = self._found(analysis.DIFFERENCE)
        return found.fraction if found else None

    def structure_image(self) -> QImage | None:
        found = self._found(analysis.STRUCTURE)
        return found.image if found else None

    def structure_fraction(self) -> float | None:
        found = self._found(analysis.STRUCTURE)
        return found.fraction if found else None

    def _on_analysis_ready(self) -> None:
        self._refresh()
        self.differenceReady.emit()
