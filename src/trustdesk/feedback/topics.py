"""The trust topics feedback is sorted into, and the trust dimension each one speaks to.

Dimensions follow the usual model of trustworthiness (ability, integrity, benevolence) plus data
care, which customers judge separately: whether their personal data is protected.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Literal, get_args

import numpy as np

__all__ = [
    "DIMENSIONS",
    "TOPICS",
    "TOPIC_DIMENSIONS",
    "TOPIC_LABELS",
    "Topic",
    "mask_of",
    "masks_from_matrix",
    "topics_of",
]

# The type the API declares (an enum in the OpenAPI document) and the tuple the code indexes: one
# list. The order is the bit order of stored topic masks: append, never reorder.
Topic = Literal[
    "service_care",
    "reliability_delivery",
    "billing_honesty",
    "privacy_security",
    "communication_transparency",
    "product_quality",
]
TOPICS: tuple[str, ...] = get_args(Topic)
TOPIC_LABELS: dict[str, str] = {
    "service_care": "service & care",
    "reliability_delivery": "reliability & delivery",
    "billing_honesty": "billing & honesty",
    "privacy_security": "privacy & security",
    "communication_transparency": "communication & transparency",
    "product_quality": "product quality",
}
DIMENSIONS: tuple[str, ...] = ("ability", "integrity", "benevolence", "data_care")
TOPIC_DIMENSIONS: dict[str, str] = {
    "service_care": "benevolence",  # acts in the customer's interest
    "reliability_delivery": "ability",  # delivers what was promised
    "billing_honesty": "integrity",  # honest, fair, keeps its word
    "privacy_security": "data_care",  # protects personal data
    "communication_transparency": "integrity",
    "product_quality": "ability",
}


def mask_of(topics: Iterable[str]) -> int:
    """Bitmask with bit i set for TOPICS[i]; unknown names raise KeyError."""
    mask = 0
    for topic in topics:
        mask |= 1 << TOPICS.index(topic)
    return mask


def topics_of(mask: int) -> tuple[str, ...]:
    return tuple(t for i, t in enumerate(TOPICS) if mask & (1 << i))


def masks_from_matrix(flags: np.ndarray) -> np.ndarray:
    """Row-wise bitmask (int32) of a boolean (n, len(TOPICS)) matrix."""
    weights = (1 << np.arange(flags.shape[1], dtype=np.int64)).astype(np.int64)
    return (flags.astype(np.int64) @ weights).astype(np.int32)
