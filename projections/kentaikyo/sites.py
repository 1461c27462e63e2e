"""What the calculation needs to know about a site (現場): its prime, its method, its 施工体制."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType

from ledger.domain.site import KentaikyoMethod
from projections.kentaikyo.errors import InvalidStructure


@dataclass(frozen=True)
class SiteInfo:
    """One site as of the month being settled.

    `upper_chain` maps every business on the site's subcontract structure (施工体制) to the
    businesses above it, nearest first and ending with the prime (元請); the prime maps to ``()``.
    It is the same chain as `ledger.domain.site.Site.upper_businesses_of`, so a read model can copy
    it; `from_parents` builds it from ``SubcontractAdded`` facts (business → parent).
    """

    site_id: str
    prime_business_id: str
    method: KentaikyoMethod
    upper_chain: Mapping[str, tuple[str, ...]] = field(hash=False)

    def __post_init__(self) -> None:
        chains = MappingProxyType(dict(self.upper_chain))  # frozen means frozen: no caller aliasing
        object.__setattr__(self, "upper_chain", chains)
        if chains.get(self.prime_business_id) != ():
            raise InvalidStructure(self.site_id, "the prime must be on the structure with no chain")
        for business, chain in chains.items():
            if business == self.prime_business_id:
                continue
            if not chain or chain[-1] != self.prime_business_id:
                raise InvalidStructure(self.site_id, f"{business}'s chain must end with the prime")
            if business in chain or len(set(chain)) != len(chain):
                raise InvalidStructure(self.site_id, f"{business}'s chain has a cycle")
            if chains.get(chain[0]) != chain[1:]:
                raise InvalidStructure(
                    self.site_id, f"{business}'s chain disagrees with its parent {chain[0]}'s"
                )

    @classmethod
    def from_parents(
        cls,
        site_id: str,
        prime_business_id: str,
        method: KentaikyoMethod,
        parents: Mapping[str, str],
    ) -> SiteInfo:
        """Build the chains from each subcontractor's direct parent (上位の事業者)."""
        chains: dict[str, tuple[str, ...]] = {prime_business_id: ()}

        def chain_of(business: str, path: tuple[str, ...]) -> tuple[str, ...]:
            if business in chains:
                return chains[business]
            if business in path:
                raise InvalidStructure(site_id, f"{business} is its own upper subcontractor")
            parent = parents.get(business)
            if parent is None:
                raise InvalidStructure(site_id, f"{business} has no parent on the structure")
            chains[business] = (parent, *chain_of(parent, (*path, business)))
            return chains[business]

        if prime_business_id in parents:
            raise InvalidStructure(site_id, "the prime cannot have a parent")
        for business in parents:
            chain_of(business, ())
        return cls(site_id, prime_business_id, method, chains)

    def on_structure(self, business_id: str) -> bool:
        return business_id in self.upper_chain
