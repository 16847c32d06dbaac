"""The Sequence view's table: test MSE per k of the MLP and the latent model side by side, beside the
least-squares affine AR(tau) oracle of the same draw, and the line that says how they compare."""

from __future__ import annotations

import math
from dataclasses import dataclass

from textual.widgets import Static


@dataclass(frozen=True)
class ModelScores:
    """One model's test figures on the draw (plain numbers from ``SineTask.forecasts()``)."""

    name: str  # "MLP 10", "GRU 16"
    latent: bool
    k_step_mse: dict[int, float]
    multi_step_mse: float
    run: str = ""  # its run folder's name


def _num(value: float | None, width: int = 8, digits: int = 4) -> str:
    if value is None or not math.isfinite(value):
        return "-".rjust(width)
    return f"{value:.{digits}f}".rjust(width)


def _ratio(value: float | None, oracle: float) -> str:
    if value is None or not math.isfinite(value) or not oracle > 0:
        return "-".rjust(7)
    return f"{value / oracle:.2f}×".rjust(7)


def table_text(ks: list[int], mlp: ModelScores | None, latent: ModelScores | None,
               oracle: dict[int, float], ratios: bool = True) -> str:
    """The table as lines of text: one row per k (and the multi-step forecast), the MLP's and the latent
    model's test MSE, each with its ratio to the oracle's (unless not ``ratios``), and the oracle's MSE."""
    names = [(s.name if s is not None else kind)[:8] for s, kind in ((mlp, "MLP"), (latent, "latent"))]
    per = f" {'/oracle':>7}" if ratios else ""
    lines = [f"{'k':<5} {names[0]:>8}{per} {names[1]:>8}{per} {'oracle':>8}"]
    for k in ks:
        a = mlp.k_step_mse.get(k) if mlp is not None else None
        b = latent.k_step_mse.get(k) if latent is not None else None
        o = oracle.get(k, math.nan)
        ra, rb = (f" {_ratio(a, o)}", f" {_ratio(b, o)}") if ratios else ("", "")
        lines.append(f"{k:<5} {_num(a)}{ra} {_num(b)}{rb} {_num(o)}")
    a = mlp.multi_step_mse if mlp is not None else None
    b = latent.multi_step_mse if latent is not None else None
    blank = " " * 8 if ratios else ""
    lines.append(f"{'multi':<5} {_num(a)}{blank} {_num(b)}{blank} {'-':>8}")
    return "\n".join(lines)


def _against(name: str, mse: float, oracle: float) -> str:
    r = mse / oracle
    where = f"{100 * (r - 1):.0f}% above" if r >= 1 else f"{100 * (1 - r):.0f}% below"
    return f"the {name}'s {mse:.4f} is {where} it"


def verdict(tau: int, mlp: ModelScores | None, latent: ModelScores | None, oracle: dict[int, float],
            noise_mse: float, partner_note: str = "") -> str:
    """One line on how the models compare with the oracle at k = 1, with this draw's numbers."""
    o = oracle.get(1, math.nan)
    if not (math.isfinite(o) and o > 0):
        return "no test target for the oracle on this draw"
    parts = [f"1-step test MSE: the oracle (best affine function of the last {tau} values) {o:.4f};"]
    if mlp is not None:
        parts.append(_against("MLP", mlp.k_step_mse[1], o) + (";" if latent is not None else ""))
    if latent is not None:
        name = latent.name.split()[0]
        text = _against(name, latent.k_step_mse[1], o)
        if latent.k_step_mse[1] < o:
            text += f": its state carries more than {tau} values"
        else:
            text += " on this draw"
        parts.append(text)
    line = " ".join(parts) + f". This draw's test noise alone: {noise_mse:.4f}."
    return line + (f" {partner_note}" if partner_note else "")


class MseTable(Static):
    """The table (plain text, fixed columns); ``ratios`` False leaves the ratio columns out (a narrow
    terminal: the line beside the table gives the 1-step ratios)."""

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.shown: tuple | None = None  # (ks, mlp, latent, oracle)
        self.ratios = True

    def show(self, ks: list[int], mlp: ModelScores | None, latent: ModelScores | None,
             oracle: dict[int, float]) -> None:
        self.shown = (ks, mlp, latent, oracle)
        self._update()

    def clear(self) -> None:
        self.shown = None
        self._update()

    def set_ratios(self, ratios: bool) -> None:
        if ratios != self.ratios:
            self.ratios = ratios
            self._update()

    def _update(self) -> None:
        self.update(table_text(*self.shown, ratios=self.ratios) if self.shown is not None else "")
