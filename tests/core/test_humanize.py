from desktop.core.humanize import human_bytes, human_duration


def test_durations() -> None:
    assert human_duration(0.042) == "42 ms"
    assert human_duration(7.5) == "7.5 s"
    assert human_duration(3) == "3 s"
    assert human_duration(45.4) == "45 s"
    assert human_duration(125) == "2 min 5 s"
    assert human_duration(5400) == "1 h 30 min"


def test_bytes() -> None:
    assert human_bytes(512) == "512 bytes"
    assert human_bytes(1500) == "1.5 KB"
    assert human_bytes(200_000_000) == "200.0 MB"
