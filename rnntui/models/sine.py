"""Models for the sine sequence (d2l, "Working with Sequences"): predict the next value of a series.

Two kinds, with one forecasting protocol (``rnntui.decoding.forecast`` drives both):

* ``SineMLP``, the book's autoregressive model: the next value from the last ``tau`` values only,
  ``Linear(tau, h) -> ReLU -> Linear(h, 1)``.
* ``LatentAR``, a latent autoregressive model: a recurrent network reads the series one value at a time,
  its hidden state h_t summarising x_1..x_t, and a linear head predicts x_{t+1} from h_t. Its context is
  the whole history, not a window.

Both expose ``predict_next(window (batch, tau)) -> (batch, 1)``. ``stateful`` tells them apart: the
latent model also exposes ``scan`` (read a series, keeping the state after every value) and
``rollout`` (keep predicting from given states, feeding each prediction back as the next input).
"""

from __future__ import annotations

import torch
from torch import nn

from rnntui.config import ExperimentConfig, ModelConfig
from rnntui.models.lm import make_rnn


class SineMLP(nn.Module):
    """The book's MLP: (batch, tau) windows -> (batch, 1) next values; Xavier-uniform weights (the book's
    ``init_weights``), PyTorch's default biases."""

    stateful = False

    def __init__(self, tau: int, num_hiddens: int = 10) -> None:
        super().__init__()
        self.tau = tau
        self.num_hiddens = num_hiddens
        self.net = nn.Sequential(nn.Linear(tau, num_hiddens), nn.ReLU(), nn.Linear(num_hiddens, 1))
        for layer in self.net:
            if isinstance(layer, nn.Linear):
                nn.init.xavier_uniform_(layer.weight)

    def forward(self, features: torch.Tensor) -> torch.Tensor:
        return self.net(features)

    def predict_next(self, window: torch.Tensor) -> torch.Tensor:
        """The value after each window: (batch, tau) -> (batch, 1)."""
        return self.net(window)


class LatentAR(nn.Module):
    """A latent autoregressive model: h_t = f(h_{t-1}, x_t), x^_{t+1} = W h_t + b.

    ``forward`` reads series (batch, steps) from ``state`` (None: zeros) and returns, for every step t,
    the prediction of the value *after* it, ``preds[:, t]`` ~ x[:, t + 1], with the final state.

    Training (``rnntui.training.sine_task.SineTask``) minimises the MSE of these 1-step predictions over
    short windows of the training part, each read from a zero state; forecasting starts from the state
    after the whole observed history (``scan``). ``kind`` is rnn, gru or lstm; ``impl`` "torch" (torch.nn) or
    "scratch" (the book's equations, ``rnntui.models.scratch``); both are time-major inside.
    """

    stateful = True

    def __init__(
        self, kind: str = "gru", num_hiddens: int = 16, num_layers: int = 1, impl: str = "torch",
        dropout: float = 0.0,
    ) -> None:
        super().__init__()
        self.kind = kind
        self.num_hiddens = num_hiddens
        self.num_layers = num_layers
        config = ModelConfig(kind=kind, impl=impl, num_hiddens=num_hiddens, num_layers=num_layers, dropout=dropout)
        self.rnn = make_rnn(config, 1)  # input size 1: one value per step
        self.head = nn.Linear(num_hiddens, 1)

    def forward(self, x: torch.Tensor, state=None):
        """x: (batch, steps) -> (preds (batch, steps), state); preds[:, t] predicts x[:, t + 1]."""
        outputs, state = self.rnn(x.T.unsqueeze(-1), state)  # (steps, batch, hiddens)
        return self.head(outputs).squeeze(-1).T, state

    def predict_next(self, window: torch.Tensor) -> torch.Tensor:
        """The value after each window, read from a zero state: (batch, steps) -> (batch, 1). The
        forecasting functions use ``scan`` instead, so that the context is the whole history."""
        preds, _ = self(window)
        return preds[:, -1:]

    def scan(self, x: torch.Tensor):
        """Read one series x (steps,) from a zero state.

        Returns (preds (steps,), states): ``preds[t]`` predicts x[t + 1] and ``states`` holds the state after
        x[0..t] for every t, stacked along the batch dimension: (layers, steps, hiddens), or (H, C) for the
        LSTM, so that ``select_states(states, origins)`` is a batch of starting states for ``rollout``.
        """
        if self.kind != "lstm" and self.num_layers == 1:
            # one RNN/GRU layer: its output at t is its whole state; one call reads the series
            outputs, _ = self.rnn(x.view(-1, 1, 1))  # (steps, 1, hiddens)
            states = outputs.transpose(0, 1)  # (1, steps, hiddens)
            return self.head(outputs).view(-1), states
        preds, states, state = [], [], None
        for value in x.view(-1, 1, 1, 1):  # value: (1 step, 1 batch, 1 input)
            outputs, state = self.rnn(value, state)
            preds.append(self.head(outputs).view(1))
            states.append(state)
        if self.kind == "lstm":
            return torch.cat(preds), (torch.cat([s[0] for s in states], 1), torch.cat([s[1] for s in states], 1))
        return torch.cat(preds), torch.cat(states, 1)

    def rollout(self, first: torch.Tensor, state, steps: int) -> torch.Tensor:
        """Continue from a batch of states whose next-value predictions are ``first`` (batch,): feed each
        prediction back as the next input. Returns (batch, steps); column 0 is ``first``."""
        preds = [first]
        value = first
        for _ in range(steps - 1):
            out, state = self(value.view(-1, 1), state)
            value = out[:, 0]
            preds.append(value)
        return torch.stack(preds, 1)


def select_states(states, index: torch.Tensor):
    """The states at ``index`` along the batch dimension (works for the LSTM's (H, C))."""
    if isinstance(states, tuple):
        return tuple(s[:, index] for s in states)
    return states[:, index]


def build_sine_model(config: ExperimentConfig) -> nn.Module:
    """model.kind "mlp": the book's MLP over windows of sine.tau values; rnn/gru/lstm: a ``LatentAR``."""
    m = config.model
    if m.kind == "mlp":
        return SineMLP(config.sine.tau, m.num_hiddens)
    return LatentAR(m.kind, m.num_hiddens, m.num_layers, impl=m.impl, dropout=m.dropout)
