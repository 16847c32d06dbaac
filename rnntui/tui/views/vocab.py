"""The Vocab view (3): the tokenizer and vocabulary inspector (issue 11)."""

from __future__ import annotations

from rnntui.tui.views.base import PlannedView


class VocabView(PlannedView):
    VIEW_ID = "vocab"
    ABOUT = ("How text becomes numbers: tokens, the vocabulary (<unk>, reserved tokens, min_freq), "
             "n-gram frequencies and Zipf's law, and how minibatches cut the text.")
    PLANNED = "the tokenizer and vocabulary inspector: tokens, frequencies, Zipf's law"
