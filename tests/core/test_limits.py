"""Limits: defaults, and settings values that are read or ignored."""

from __future__ import annotations

from desktop.config import Settings
from desktop.core.limits import Limits


def test_defaults_cover_a_4x_upscale_of_a_4096_px_image() -> None:
    limits = Limits()
    assert limits.result_max_pixels >= 16384 * 16384
    assert limits.input_max_pixels == 64_000_000


def test_settings_round_trip_and_bad_values_keep_defaults() -> None:
    settings = Settings.from_dict({"limits": {"result_max_megapixels": 500, "url_input_timeout_s":
                                              "nan", "input_max_bytes": -3, "unknown": 1}})
    assert settings.limits.result_max_megapixels == 500
    assert settings.limits.url_input_timeout_s == Limits().url_input_timeout_s
    assert settings.limits.input_max_bytes == Limits().input_max_bytes
    again = Settings.from_dict(settings.to_dict())
    assert again.limits == settings.limits
    assert Settings.from_dict({"limits": "junk"}).limits == Limits()


def test_result_limits_reach_the_engine_policy() -> None:
    policy = Settings.from_dict({"limits": {"result_max_megapixels": 400,
                                            "result_full_decode_max_megapixels": 150}}
                                ).engine_policy(["local"])
    assert policy.result_max_pixels == 400_000_000
    assert policy.result_full_decode_max_pixels == 150_000_000
    defaults = Settings().engine_policy(["local"])
    assert defaults.result_max_pixels == Limits().result_max_pixels == 270_000_000
    assert defaults.result_full_decode_max_pixels == 100_000_000


def test_job_settings_reach_the_engine_policy_and_bad_ones_are_ignored() -> None:
    settings = Settings.from_dict({"jobs": {"submit_grace_s": 30, "download_attempts": "8",
                                            "lease_s": "nan", "poll_attention_after": -2,
                                            "unknown": 5}})
    policy = settings.engine_policy(["fitinview"])
    assert policy.submit_grace_s == 30.0 and policy.download_attempts == 8
    default = Settings().engine_policy(["fitinview"])
    assert policy.lease_s == default.lease_s
    assert policy.poll_attention_after == default.poll_attention_after
    assert Settings.from_dict(settings.to_dict()).engine_policy([]) == settings.engine_policy([])
