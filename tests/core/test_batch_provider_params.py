"""An addition for batches made in the window: each provider keeps its own form's values (a
matrix's `provider_params`)."""

from __future__ import annotations

from desktop.core.batches import Matrix, Variant, expand


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
