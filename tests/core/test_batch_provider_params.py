"""Two additions for batches made in the window: each provider keeps its own form's values (a
matrix's `provider_params`), and a provider where a job costs nothing (the offline one) is
planned at 0 credits, so a budget does not keep its cells out."""

from __future__ import annotations

from pathlib import Path

from desktop.core.assets import AssetStore
from desktop.core.batch_runner import BatchRunner
from desktop.core.batches import ItemState, Matrix, Variant, expand
from desktop.core.engine import JobEngine
from desktop.core.store import History
from desktop.core.store.batches import BatchStore
from desktop.providers.local.provider import LocalProvider
from tests.fakes import png_bytes


def test_each_provider_keeps_its_own_values_and_a_variant_beats_them() -> None:
    matrix = Matrix(task="tryon", providers=("fitinview", "local"), role="person",
                    rows=("p.png",),
                    variants=(Variant("g", {"garment": ["g.png"]}, {"scale": 1.2}),),
                    params={"shared": 1},
                    provider_params={"fitinview": {"output_size": "2K", "shared": 2},
                                     "local": {"scale": 0.9, "shadow": False}})
    fitinview, local = expand(matrix)
    assert fitinview.spec.params == {"shared": 2, "output_size": "2K", "scale": 1.2}
    assert local.spec.params == {"shared": 1, "scale": 1.2, "shadow": False}
    assert Matrix.from_dict(matrix.to_dict()) == matrix
    older = matrix.to_dict()
    del older["provider_params"]  # a batch stored before the field existed
    assert Matrix.from_dict(older).provider_params == {}


def test_the_offline_provider_costs_nothing_under_a_budget(tmp_path: Path) -> None:
    history = History(tmp_path / "history.sqlite3")
    assets = AssetStore(tmp_path / "assets")
    image = tmp_path / "in.png"
    image.write_bytes(png_bytes((10, 120, 200)))
    engine = JobEngine(history, assets, lambda pid: LocalProvider())
    runner = BatchRunner(engine, BatchStore(history))
    matrix = Matrix(task="upscale", providers=("local",), role="image", rows=(str(image),),
                    variants=(Variant("2x", {}, {"factor": 2}),
                              Variant("4x", {}, {"factor": 4})))
    items, plan = runner.plan(matrix, budget=1)
    assert [i.expected_credits for i in items] == [0.0, 0.0]
    assert all(i.state == ItemState.PENDING for i in items)
    assert (plan.jobs, plan.over_budget, plan.unpriced, plan.credits) == (2, 0, 0, 0.0)
    history.close()
