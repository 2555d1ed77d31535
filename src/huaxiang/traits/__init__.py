"""Traits: named aggregations over a person's events, evaluated in batch (Ibis) or incrementally (pure).

``resolve_trait`` checks a declared ``TraitSpec``; ``compile_traits`` turns many traits into one Ibis
table expression; ``IncrementalTrait`` folds single events into a state for real-time updates.
"""

from __future__ import annotations

from huaxiang.traits.batch import PreparedTraits, aggregate_traits, compile_traits, prepare_traits
from huaxiang.traits.definitions import Trait, resolve_trait, resolve_traits
from huaxiang.traits.events import typed_events
from huaxiang.traits.fields import BASE_FIELDS, EventField, event_fields, field_types
from huaxiang.traits.incremental import EventRecord, IncrementalTrait, evaluate_traits, fold

__all__ = [
    "BASE_FIELDS",
    "EventField",
    "EventRecord",
    "IncrementalTrait",
    "PreparedTraits",
    "Trait",
    "aggregate_traits",
    "compile_traits",
    "evaluate_traits",
    "event_fields",
    "field_types",
    "fold",
    "prepare_traits",
    "resolve_trait",
    "resolve_traits",
    "typed_events",
]
