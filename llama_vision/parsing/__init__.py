"""Model text -> fields. Pure functions that never raise, whatever string they are given.

Three answer shapes come back from a vision model:

- KEY-VALUE lines (`TOTAL: $12.30`), often dressed in markdown (`**TOTAL:** $12.30`, bullets,
  code fences), with `NOT_FOUND`/`N/A` for absent fields and line items either as
  `ITEMS: Coffee | 1 | 4.50 | 4.50; ...`, as one `|` line per item, as a markdown table, or as
  parallel `DESCRIPTIONS:` / `QUANTITIES:` / `PRICES:` lists;
- JSON, possibly inside a code fence or prose, with trailing commas, single quotes or cut off by
  the token cap (json-repair mends it);
- one-field answers in field-specific mode ("The ABN is 51 824 753 556.").

Keys are matched whole after normalisation (never by substring), so TOTAL never grabs SUBTOTAL
and ABN never grabs BUYER_ABN; the synonyms of `schema.FIELDS` map to the canonical names.
`parse_output` returns raw (cleaned) values; `fields.normalise_fields` normalises them and warns
about the ones it cannot read. `parse_field_answer` returns normalised values.
"""

from __future__ import annotations

from llama_vision.parsing.answers import is_refusal, parse_json, parse_key_value, parse_output
from llama_vision.parsing.field_answers import parse_document_type, parse_field_answer
from llama_vision.parsing.keys import ParseOutcome, canonical_field
from llama_vision.schema import FIELD_SYNONYMS

__all__ = [
    "FIELD_SYNONYMS",
    "ParseOutcome",
    "canonical_field",
    "is_refusal",
    "parse_document_type",
    "parse_field_answer",
    "parse_json",
    "parse_key_value",
    "parse_output",
]
