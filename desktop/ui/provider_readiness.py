"""Which providers this desk can use, and which the form may tick.

On one desk a provider without its key cannot run a job, so the form will not tick it. In team
mode the jobs are sent by the team's workers with their own keys (README, "Workers"): a desk
without a provider's key may still queue that provider's jobs, so a missing key no longer
keeps it out of the form. It still keeps the desk from the provider's own API (credits, saved
workflows, the Tools menu): `problems` gates those, `form_problems` the form.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from desktop.core.model import ErrorCode

if TYPE_CHECKING:
    from desktop.services import Services


@dataclass(frozen=True)
class ProviderReadiness:
    #: What keeps each provider from working on this desk (no key, no base URL…).
    problems: dict[str, str] = field(default_factory=dict)
    #: Team mode: providers whose only problem here is the key the workers hold.
    team_ready: frozenset[str] = frozenset()

    def form_problems(self) -> dict[str, str]:
        """What keeps a provider from being ticked for a job."""
        return {pid: text for pid, text in self.problems.items() if pid not in self.team_ready}


def check_providers(services: Services, provider_ids: Iterable[str], *, team: bool
                    ) -> ProviderReadiness:
    """Blocking (the keyring may be slow): run it in a thread."""
    problems: dict[str, str] = {}
    team_ready: set[str] = set()
    for pid in provider_ids:
        state = services.readiness(pid)
        if state.ready:
            continue
        problems[pid] = state.problem
        if team and state.code == ErrorCode.MISSING_KEY:
            team_ready.add(pid)
    return ProviderReadiness(problems, frozenset(team_ready))
