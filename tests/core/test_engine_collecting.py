"""desktop.core.engine.collecting.verify_and_store: results checked against the result limits
before they are stored."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from PIL import Image

from desktop.core.assets import AssetStore
from desktop.core.contract import ProviderError, RemoteOutput
from desktop.core.engine.collecting import verify_and_store
from desktop.core.model import ErrorCode, OutputKind
from tests.big_images import grey_jpeg, solid_png
from tests.emulators.vistoure import CLIP


def store(tmp_path: Path, data: bytes, **kw: int) -> tuple[AssetStore, object]:
    assets = AssetStore(tmp_path / "assets")
    _asset, output = verify_and_store(assets, "Acme", 0, RemoteOutput(url="https://x/r"), data,
                                      **kw)
    return assets, output


def failure(tmp_path: Path, data: bytes, **kw: int) -> ProviderError:
    with pytest.raises(ProviderError) as err:
        store(tmp_path, data, **kw)
    assert err.value.code == ErrorCode.RESULT_UNAVAILABLE
    return err.value


def test_a_4x_upscale_sized_result_is_stored_by_default(tmp_path: Path) -> None:
    assets, output = store(tmp_path, solid_png(8200, 8200))
    assert (output.width, output.height, output.mime) == (8200, 8200, "image/png")
    assert assets.path_for(output.sha256, output.mime).stat().st_size == output.size
    _assets, output = store(tmp_path, grey_jpeg(16384, 16384))
    assert (output.width, output.height) == (16384, 16384)


def test_the_limit_comes_from_the_keyword_and_its_sentence_names_the_setting(
        tmp_path: Path) -> None:
    data = grey_jpeg(400, 300)
    error = failure(tmp_path, data, max_pixels=100_000)
    assert error.message == (
        "The result 1 from Acme has 0.12 megapixels (400x300), more than the 0.1-megapixel "
        "limit for results (limits.result_max_megapixels in settings.json); raise that "
        "setting to accept images this large.")
    assert not list((tmp_path / "assets").rglob("*.jpg"))  # nothing stored
    assert store(tmp_path, data, max_pixels=120_000)[1].width == 400


def test_full_decode_limit_keyword(tmp_path: Path) -> None:
    buf = io.BytesIO()
    Image.new("RGB", (400, 300), (9, 9, 9)).save(buf, "WEBP")
    error = failure(tmp_path, buf.getvalue(), full_decode_max_pixels=100_000)
    assert "limits.result_full_decode_max_megapixels" in error.message
    assert store(tmp_path, buf.getvalue(), full_decode_max_pixels=120_000)[1].width == 400


def test_an_unreadable_result_is_a_sentence_without_paying_again(tmp_path: Path) -> None:
    """What is wrong with the file; never "run the job again": the job is paid for, and the
    engine downloads the result again (or keeps the job waiting) instead."""
    error = failure(tmp_path, b"<html><body>Link expired</body></html>")
    assert error.message == (
        "The result 1 from Acme could not be read as an image: it is a web page (HTML), not "
        "image data: the server sent a page where the image should be.")
    data = solid_png(300, 300)
    assert "cut short" in failure(tmp_path, data[: len(data) // 2]).message
    assert failure(tmp_path, b"").message == "The result 1 from Acme was empty."


def test_non_image_outputs_are_not_decoded(tmp_path: Path) -> None:
    assets = AssetStore(tmp_path / "assets")
    _asset, output = verify_and_store(assets, "Acme", 1, RemoteOutput(
        url="https://x/v", kind=OutputKind.VIDEO), CLIP, max_pixels=1)
    assert (output.mime, output.kind, output.width) == ("video/mp4", OutputKind.VIDEO, None)
    assert assets.path_for(output.sha256, output.mime).read_bytes() == CLIP


@pytest.mark.parametrize(("data", "words"), [
    (b"<!DOCTYPE html><html><body>Expired</body></html>", "is not a video: it is a web page"),
    (CLIP[: len(CLIP) // 2], "is cut short"),
    (CLIP[:32] + CLIP[32 + int.from_bytes(CLIP[32:36], "big"):], "has no movie header"),
], ids=["error_page", "cut_short", "no_moov"])
def test_a_video_that_is_not_a_whole_video_is_not_stored(tmp_path: Path, data: bytes,
                                                          words: str) -> None:
    """The engine downloads it again (RESULT_UNAVAILABLE), and nothing reaches the store."""
    assets = AssetStore(tmp_path / "assets")
    with pytest.raises(ProviderError) as err:
        verify_and_store(assets, "Acme", 1, RemoteOutput(url="https://x/v",
                                                         kind=OutputKind.VIDEO), data)
    assert err.value.code == ErrorCode.RESULT_UNAVAILABLE
    assert err.value.message.startswith("The result 2 from Acme ") and words in err.value.message
    assert not any((tmp_path / "assets").rglob("*.mp4"))


def test_a_still_sent_for_a_video_is_kept_as_the_image_it_is(tmp_path: Path) -> None:
    assets = AssetStore(tmp_path / "assets")
    _asset, output = verify_and_store(assets, "Acme", 0, RemoteOutput(
        url="https://x/v", kind=OutputKind.VIDEO), solid_png(64, 48))
    assert (output.kind, output.mime, output.width) == (OutputKind.IMAGE, "image/png", 64)
