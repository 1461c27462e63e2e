"""The one rule for text a command stores: no control characters.

A NUL in a name was accepted and then stopped the projection for good on PostgreSQL, whose text
type cannot hold it; other control characters (escape sequences, form feeds, C1 codes) and lone
surrogates (which no UTF-8 column can hold) have no place in a trade, a name or a reason either.
So every text field refuses the Unicode control characters (C0 U+0000–U+001F, DEL U+007F, C1
U+0080–U+009F) and surrogates, with one exception: the free-text fields below, which a person
types as prose, may hold tab and line breaks (U+0009, U+000A, U+000D). Other characters are
accepted as they came: full-width spaces, emoji and joiners are ordinary Japanese input.
"""

from __future__ import annotations

import re

from ledger.errors import InvalidValue

# Free text written as prose: a reason for a rejection, correction or retirement, a manual
# entry's work content (作業内容) and note.
FREE_TEXT_FIELDS = frozenset({"reason", "note", "work_content"})
_CONTROL = re.compile("[\x00-\x1f\x7f-\x9f\ud800-\udfff]")
_CONTROL_BUT_LAYOUT = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\ud800-\udfff]")


def check_text(value: str, field: str) -> str:
    """Return ``value`` if it holds no character the rule refuses; else raise naming the field."""
    if value.isprintable():  # the common case, checked in C; it refuses more than the rule does
        return value
    pattern = _CONTROL_BUT_LAYOUT if field in FREE_TEXT_FIELDS else _CONTROL
    found = pattern.search(value)
    if found is not None:
        raise InvalidValue(
            field,
            "text.control_character",
            f"contains the control character U+{ord(found.group()):04X} at offset {found.start()}"
            " (control characters are not allowed"
            + (", except tab and line breaks)" if field in FREE_TEXT_FIELDS else ")"),
        )
    return value
