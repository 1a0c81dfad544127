"""Batches as data: matrix expansion, parameter axes, garment groups, cost plan and budget."""

from __future__ import annotations

import pytest

from desktop.core.batches import (
    BatchItem,
    ItemState,
    Matrix,
    Variant,
    apply_budget,
    expand,
    garment_groups,
    make_plan,
    param_axes,
    split_values,
)
from desktop.core.model import InvalidInput, JobSpec


def matrix(**kw: object) -> Matrix:
    base = dict(task="tryon", providers=("fitinview", "tryonapi"), role="person",
                rows=("p1.png", "p2.png", "p3.png"),
                variants=tuple(Variant(f"g{i}", {"garment": [f"g{i}.png"]}) for i in range(4)),
                params={"output_size": "2K"})
    base.update(kw)
    return Matrix(**base)  # type: ignore[arg-type]


def test_a_matrix_expands_row_by_row_into_every_variant_on_every_provider() -> None:
    items = expand(matrix(), deadline_s=120)
    assert len(items) == 3 * 4 * 2  # 3 persons x 4 garments x 2 providers
    assert [i.position for i in items] == list(range(24))
    first, second = items[0], items[1]
    assert (first.row, first.col, first.provider) == (0, 0, "fitinview")
    assert (second.row, second.col, second.provider) == (0, 1, "tryonapi")
    assert first.spec.inputs == {"person": ["p1.png"], "garment": ["g0.png"]}
    assert first.spec.params == {"output_size": "2K"} and first.spec.deadline_s == 120
    last = items[-1]
    assert (last.row, last.col) == (2, 7) and last.spec.inputs["garment"] == ["g3.png"]
    assert all(i.state == ItemState.PENDING for i in items)
    # The round trip through the history keeps the matrix.
    assert Matrix.from_dict(matrix().to_dict()) == matrix()


def test_parameter_axes_give_every_combination() -> None:
    sets = param_axes({"style": ["modern", "scandinavian"], "room_type": ["living", "bed"]})
    assert sets == [{"style": "modern", "room_type": "living"},
                    {"style": "modern", "room_type": "bed"},
                    {"style": "scandinavian", "room_type": "living"},
                    {"style": "scandinavian", "room_type": "bed"}]
    assert param_axes({}) == [{}]
    assert split_values("modern, scandinavian ,") == ["modern", "scandinavian"]
    assert split_values('[{"target": "a", "color": "red"}]') == [
        '[{"target": "a", "color": "red"}]']  # JSON is one value


def test_garments_group_one_to_three_per_job() -> None:
    assert garment_groups(["a", "b", "c", "d", "e"], 2) == [("a", "b"), ("c", "d"), ("e",)]
    assert garment_groups(["a"], 3) == [("a",)]
    with pytest.raises(InvalidInput, match="1 to 3"):
        garment_groups(["a"], 4)


def priced_items(costs: list[float | None]) -> list[BatchItem]:
    return [BatchItem(position=i, row=0, col=i, provider="fitinview" if c is not None else
                      "tryonapi", spec=JobSpec("x", "tryon"), expected_credits=c)
            for i, c in enumerate(costs)]


def test_the_budget_is_never_exceeded_and_unpriced_jobs_are_kept_out_of_it() -> None:
    items = apply_budget(priced_items([8, 8, 8, None, 4]), budget=20)
    states = [i.state for i in items]
    assert states == [ItemState.PENDING, ItemState.PENDING, ItemState.OVER_BUDGET,
                      ItemState.OVER_BUDGET, ItemState.PENDING]
    assert "over the budget of 20 (16 already planned)" in items[2].note
    assert "publishes no price" in items[3].note
    assert sum(i.expected_credits or 0 for i in items if i.state == ItemState.PENDING) <= 20
    # What is already spent counts too.
    assert [i.state for i in apply_budget(priced_items([8]), 20, spent=15)] == [
        ItemState.OVER_BUDGET]
    assert apply_budget(priced_items([8, None]), None) == priced_items([8, None])


def test_the_plan_counts_jobs_credits_and_money_per_provider() -> None:
    items = apply_budget(priced_items([8, 12, None, None]), budget=None)
    plan = make_plan(items, prices={"fitinview": 0.05})
    by = {p.provider: p for p in plan.providers}
    assert by["fitinview"].jobs == 2 and by["fitinview"].credits == 20
    assert by["fitinview"].money == pytest.approx(1.0)
    assert by["tryonapi"].jobs == 2 and by["tryonapi"].unpriced == 2
    assert by["tryonapi"].money is None
    assert plan.jobs == 4 and plan.credits == 20 and plan.unpriced == 2
    assert plan.money is None  # a provider without a price: no total in money
    capped = make_plan(apply_budget(items, 10), budget=10)
    assert capped.jobs == 1 and capped.over_budget == 3 and capped.credits == 8
    assert capped.to_dict()["providers"][0]["jobs"] == 1
