"""What the Vocab view draws from the engine's plain results: the tokenized line, keyword in context, the
n-gram lists, the Zipf chart, and the minibatch strip and windows. Each function returns Rich ``Text``."""

from __future__ import annotations

from collections.abc import Sequence

from rich.cells import cell_len, set_cell_size
from rich.style import Style
from rich.text import Text

from rnntui.inspect.vocab import KeywordInContext, TokenizedLine, ZipfFit, display
from rnntui.tui.widgets.charts import Chart

ORDER_NAMES = {1: "unigram", 2: "bigram", 3: "trigram"}
# two colours that take turns, so that neighbouring tokens read apart; <unk> stands out
TOKEN_STYLES = (Style(color="black", bgcolor="#87afd7"), Style(color="black", bgcolor="#d7af87"))
UNK_STYLE = Style(color="white", bgcolor="#d70000", bold=True)
INDEX_STYLES = (Style(color="#87afd7"), Style(color="#d7af87"))
# a colour per batch (taking turns); the batch on show is bright, the others dim
BATCH_COLORS = ("#5f87d7", "#d7875f", "#5faf5f", "#af5fd7", "#d7af00", "#00afaf", "#d75f87", "#8787af")


def visible(text: str) -> str:
    """Text for one line: newlines, tabs and other invisible characters shown (spaces stay spaces)."""
    return "".join(ch if ch == " " else display(ch) for ch in text)


def join_gram(gram: Sequence[str], token: str) -> str:
    return ("" if token == "char" else " ").join(display(t) for t in gram)


# -- tokenize this -----------------------------------------------------------------------------------------

def tokenized_text(line: TokenizedLine, width: int) -> Text:
    """Each token over its index, in colours that take turns (``<unk>`` in red), wrapped to ``width``;
    then what was cut (the line after preprocessing) and the round trip."""
    out = Text()
    if not line.pieces:
        out.append("(no tokens: type something above)", style="dim")
    tokens, indices, used = Text(), Text(), 0
    for k, piece in enumerate(line.pieces):
        label, index = piece.display, str(piece.index)
        w = max(cell_len(label), len(index))
        if used and used + 1 + w > width:  # wrap: this pair of lines is full
            out.append_text(tokens)
            out.append("\n")
            out.append_text(indices)
            out.append("\n")
            tokens, indices, used = Text(), Text(), 0
        if used:
            tokens.append(" ")
            indices.append(" ")
            used += 1
        tokens.append(set_cell_size(label, w), UNK_STYLE if piece.unk else TOKEN_STYLES[k % 2])
        indices.append(index.ljust(w), UNK_STYLE if piece.unk else INDEX_STYLES[k % 2])
        used += w
    if used:
        out.append_text(tokens)
        out.append("\n")
        out.append_text(indices)
    out.append("\n\n")
    out.append("cut from: ", style="bold")
    out.append(repr(line.prepared) if line.prepared != line.text else "the line as typed (nothing to preprocess)")
    out.append("\n")
    out.append("decoded:  ", style="bold")
    out.append(repr(line.decoded))
    out.append("\n")
    n = len(line.pieces)
    if line.lossless:
        out.append(f"round trip exact: {n} tokens, every one in the vocabulary", style="green")
    else:
        out.append(f"round trip lossy: {line.num_unk} of {n} tokens map to <unk> (index 0): the model can "
                   "neither read nor write them", style="bold red")
    return out


# -- keyword in context ------------------------------------------------------------------------------------

def kwic_text(kwic: KeywordInContext, width: int) -> Text:
    """One line per occurrence: the text before it right-aligned, the token highlighted, the text after."""
    shown = display(kwic.token)
    out = Text(no_wrap=True, overflow="ellipsis")
    out.append(f"{shown!s}: {kwic.count:,} occurrences", style="bold")
    if kwic.contexts:
        out.append(f"; {len(kwic.contexts)} of them, spread over the text", style="dim")
    side = max(4, (width - cell_len(shown) - 4) // 2)
    for c in kwic.contexts:
        left, right = visible(c.left), visible(c.right)
        left = left[-side:] if cell_len(left) > side else left
        out.append("\n")
        out.append(left.rjust(side), style="dim")
        out.append(" ")
        out.append(display(c.token), style="bold reverse")
        out.append(" ")
        out.append(set_cell_size(right, side) if cell_len(right) > side else right, style="dim")
    if not kwic.contexts:
        out.append("\n(none in the counted text)", style="dim")
    return out


# -- n-grams and Zipf --------------------------------------------------------------------------------------

def ngram_text(ngrams: dict[int, tuple], token: str, top: int, num_ngrams: dict[int, int]) -> Text:
    """The top n-grams of each order side by side, with counts (most frequent first)."""
    cols = []
    for n in sorted(ngrams):
        items = [(join_gram(g, token), f"{c:,}") for g, c in ngrams[n][:top]]
        head = f"{ORDER_NAMES.get(n, n)}s ({num_ngrams.get(n, 0):,})"
        gram_w = max([cell_len(head)] + [cell_len(g) for g, _ in items])
        count_w = max([5] + [len(c) for _, c in items])
        cols.append((head, items, gram_w, count_w))
    out = Text()
    num_w = len(str(top))
    out.append(" " * num_w)
    for head, _, gram_w, count_w in cols:
        out.append("  ")
        out.append(head.ljust(gram_w + 1 + count_w), style="bold")
    for i in range(top):
        if not any(i < len(items) for _, items, _, _ in cols):
            break
        out.append("\n")
        out.append(str(i + 1).rjust(num_w), style="dim")
        for _, items, gram_w, count_w in cols:
            gram, count = items[i] if i < len(items) else ("", "")
            out.append("  ")
            out.append(set_cell_size(gram, gram_w))
            out.append(" ")
            out.append(count.rjust(count_w), style="dim")
    return out


ZIPF_COLORS = {1: (95, 135, 255), 2: (95, 215, 95), 3: (255, 95, 95)}  # the curves' RGB
ZIPF_STYLES = {n: f"bold #{r:02x}{g:02x}{b:02x}" for n, (r, g, b) in ZIPF_COLORS.items()}  # the legend's


def fit_label(fit: ZipfFit) -> str:
    name = f"{ORDER_NAMES.get(fit.n, fit.n)}s"
    if fit.exponent is None:
        return f"{name}: too few to fit"
    return f"{name} {fit.exponent:.2f} (ranks {fit.rank_lo:,}-{fit.rank_hi:,})"


def fits_text(zipf: dict[int, ZipfFit], narrow: bool = False) -> Text:
    """The chart's legend: each curve's colour, its fitted exponent and the ranks the fit covers, then how
    the fit was made; one line per curve (or all on one, ``narrow``)."""
    out = Text(no_wrap=not narrow, overflow="ellipsis")
    for k, (n, z) in enumerate(sorted(zipf.items())):
        if k:
            out.append("  " if narrow else "\n")
        out.append("━━ ", style=ZIPF_STYLES.get(n, "bold"))
        name = f"{ORDER_NAMES.get(n, n)}s"
        if z.exponent is None:
            out.append(f"{name}: too few to fit")
            continue
        out.append(f"{name:<9}" if not narrow else f"{name} ")
        out.append(f"{z.exponent:.2f}", style="bold")
        out.append(f" over ranks {z.rank_lo:,}-{z.rank_hi:,}" + ("" if narrow else f" of {z.num_distinct:,}"),
                   style="" if not narrow else "dim")
    rules = sorted({z.rule for z in zipf.values() if z.exponent is not None})
    if rules and not narrow:
        out.append("\n")
        out.append(f"exponent: the slope of a least-squares line of log count on log rank, over {' / '.join(rules)}",
                   style="dim")
    return out


class ZipfChart(Chart):
    """Count against rank on log-log axes, unigrams, bigrams and trigrams overlaid in the colours of the
    legend beside it (``fits_text``), which gives each curve's fitted exponent and the ranks of the fit."""

    DRAW_AT_EACH_BUILD = True

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fits: dict[int, ZipfFit] = {}
        self.unit = "words"

    def show_fits(self, fits: dict[int, ZipfFit], unit: str) -> None:
        self.fits, self.unit = fits, unit
        self.replot()

    def draw(self, plt, history) -> None:
        plt.title(f"count against rank, log-log ({self.unit})")
        plt.xscale("log")
        plt.yscale("log")
        top_rank = top_count = 1
        for n, fit in sorted(self.fits.items()):
            if fit.ranks:  # already thinned to log-evenly spaced ranks by the engine
                plt.plot(list(fit.ranks), list(fit.freqs), marker="braille", color=ZIPF_COLORS.get(n, (255, 255, 255)))
                top_rank, top_count = max(top_rank, fit.ranks[-1]), max(top_count, fit.freqs[0])
        for axis, top in ((plt.xticks, top_rank), (plt.yticks, top_count)):
            ticks = [10 ** k for k in range(len(str(int(top))))]
            axis(ticks, [_power(t) for t in ticks])
        plt.xlabel("rank")


def _power(value: int) -> str:
    return {1: "1", 10: "10", 100: "100"}.get(value) or (f"{value // 1000}k" if value < 10 ** 6 else
                                                          f"{value // 10 ** 6}M")


# -- minibatches -------------------------------------------------------------------------------------------

def _cut(text: str, width: int) -> str:
    """``text`` in at most ``width`` cells (an ellipsis where it is cut), not padded."""
    return text if cell_len(text) <= width else set_cell_size(text, width - 1) + "…"


def _window_style(batch: int, current: int) -> Style:
    color = BATCH_COLORS[batch % len(BATCH_COLORS)]
    if batch == current:
        return Style(color="black", bgcolor=color, bold=True)
    return Style(color=color)


def strip_text(tokens: Sequence[str], owners: Sequence[tuple[int, int] | None], token: str, width: int,
               current: int, max_lines: int) -> Text:
    """The start of the text, each token coloured by the batch whose X window holds it (the batch on show
    bright, tokens in no window grey), and under each line the batch and row of each window that starts
    on it (``b3 r0``); at most ``max_lines`` such pairs of lines, ``width`` cells wide."""
    sep = "" if token == "char" else " "
    lines: list[list[tuple[str, tuple[int, int] | None, bool]]] = []
    cells: list[tuple[str, tuple[int, int] | None, bool]] = []
    used, previous = 0, None
    for i, (tok, owner) in enumerate(zip(tokens, owners)):
        shown = visible(tok) + (sep if i + 1 < len(tokens) else "")  # spaces as spaces: it reads as text
        w = cell_len(shown)
        if used and used + w > width:
            lines.append(cells)
            if len(lines) >= max_lines:
                break
            cells, used = [], 0
        cells.append((shown, owner, owner is not None and owner != previous))
        used += w
        previous = owner
    else:
        if cells:
            lines.append(cells)
    out = Text()
    for k, cells in enumerate(lines):
        text, labels = Text(), Text()
        j = 0
        while j < len(cells):  # one run of cells of the same window at a time
            owner, starts = cells[j][1], cells[j][2]
            m, run_w = j, 0
            while m < len(cells) and cells[m][1] == owner and (m == j or not cells[m][2]):
                run_w += cell_len(cells[m][0])
                m += 1
            style = Style(color="grey50", dim=True) if owner is None else _window_style(owner[0], current)
            text.append("".join(c[0] for c in cells[j:m]), style)
            label = ""
            if owner is not None and starts:
                label = f"b{owner[0]} r{owner[1]}" if run_w > 7 else f"b{owner[0]}r{owner[1]}"
                label = label if cell_len(label) < run_w else label[:max(0, run_w - 1)]
            labels.append(label.ljust(run_w), Style(color=BATCH_COLORS[owner[0] % len(BATCH_COLORS)],
                                                    bold=owner[0] == current) if owner is not None else "")
            j = m
        if k:
            out.append("\n")
        out.append_text(text)
        out.append("\n")
        out.append_text(labels)
    return out


def batch_text(batch, width: int) -> Text:
    """Batch ``batch`` (a ``PlanBatch``): per row its start offset, X and Y as text, and whether it starts
    where the same row of the batch before ended."""
    out = Text(no_wrap=True, overflow="ellipsis")
    start_w = max(5, len(f"{max(batch.starts, default=0):,}"))
    tail = 13
    window_w = max(8, (width - 3 - start_w - tail - 6) // 2)
    after = "" if batch.continues is None else f"after b{batch.index - 1}"
    out.append(f"{'row':>3}  {'start':>{start_w}}  {'X (input)':<{window_w}}  {'Y (target)':<{window_w}}  "
               f"{after}", style="bold")
    for r, (s, x, y) in enumerate(zip(batch.starts, batch.X, batch.Y)):
        out.append("\n")
        out.append(f"{r:>3}  {s:>{start_w},}  ", style="dim")
        x_shown = _cut(visible(x), window_w)
        out.append(x_shown, _window_style(batch.index, batch.index))
        out.append(" " * (window_w - cell_len(x_shown) + 2))
        out.append(set_cell_size(_cut(visible(y), window_w), window_w))
        if batch.continues is None:
            out.append("  -", style="dim")
        elif batch.continues[r]:
            out.append("  ✓ continues", style="green")
        else:
            out.append("  ✗ new start", style="red")
    return out
