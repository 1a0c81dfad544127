"""The task catalogue: common tasks first with every provider that offers them, then tools."""

from __future__ import annotations

from desktop.core.catalog import GROUP_COMMON, GROUP_TOOL, GROUP_VARIANT, build_catalog, find_entry
from desktop.core.contract import ProviderConfig, TaskVariant
from desktop.providers.registry import PROVIDER_CLASSES, create_provider


def providers() -> dict:
    return {pid: create_provider(pid, ProviderConfig(base_url="http://127.0.0.1:9"))
            for pid in PROVIDER_CLASSES}


def test_common_tasks_list_every_provider_that_offers_them() -> None:
    entries = build_catalog(providers())
    common = [e for e in entries if e.group == GROUP_COMMON]
    assert [e.title for e in common] == ["Try-on", "Staging", "Recolor", "Upscale",
                                         "Background removal", "Reframe"]
    tryon = find_entry(entries, "tryon")
    assert tryon is not None
    assert tryon.providers == ("local", "fitinview", "tryonapi", "vistoure")
    assert find_entry(entries, "staging").providers == ("virtualstaging",)
    assert find_entry(entries, "recolor").providers == ("local", "vtryon")


def test_provider_tools_and_variants() -> None:
    entries = build_catalog(providers())
    fabric = find_entry(entries, "vistoure:fabric")
    assert fabric is not None and fabric.group == GROUP_TOOL and fabric.owner == "vistoure"
    assert fabric.title == "VistoureAI: Fabric"
    # Without discovered workflows the generic workflow task (type a name) is offered.
    assert find_entry(entries, "vistoure:workflow") is not None
    variant = TaskVariant("workflow", "Studio", "Studio (template)", "workflow")
    entries = build_catalog(providers(), {"vistoure": [variant]})
    assert find_entry(entries, "vistoure:workflow") is None
    studio = find_entry(entries, "vistoure:workflow:Studio")
    assert studio is not None and studio.group == GROUP_VARIANT and studio.variant == variant
    assert studio.title == "VistoureAI workflow: Studio (template)"
    assert len({e.key for e in entries}) == len(entries)


def test_entry_for_a_stored_job() -> None:
    from desktop.core.catalog import entry_for

    variant = TaskVariant("workflow", "Studio", "Studio (template)", "workflow")
    entries = build_catalog(providers(), {"vistoure": [variant]})
    assert entry_for(entries, "local", "tryon", {}).key == "tryon"
    assert entry_for(entries, "vistoure", "fabric", {}).key == "vistoure:fabric"
    assert entry_for(entries, "vistoure", "workflow",
                     {"workflow": "Studio"}).key == "vistoure:workflow:Studio"
    # A workflow no longer listed has no entry to go back to.
    assert entry_for(entries, "vistoure", "workflow", {"workflow": "Gone"}) is None
    assert entry_for(entries, "local", "staging", {}) is None
