"""RNN, GRU and LSTM written out from the book's equations, with the book's parameter names.

Each layer runs a whole sequence: inputs (steps, batch, inputs) -> outputs (steps, batch, hiddens).
The input projections of all time steps are computed in one matmul before the time loop (they do not
depend on the state); inside the loop only the recurrent matmul and the gate equations remain. Gates
that share a non-linearity are evaluated together on adjacent slices of one tensor, but every equation
is still spelled out.

``ScratchRNN`` stacks layers and has the interface of ``torch.nn.RNN/GRU/LSTM`` (time-major, state
(num_layers, batch, hiddens), LSTM state ``(H, C)``), so the two are interchangeable and can be
checked against each other with copied weights (``torch_state_dict``).
"""

from __future__ import annotations

import torch
from torch import nn

SIGMA = 0.01  # the book initialises weights as N(0, 0.01^2) and biases as zeros


def _weights(*shape: int, sigma: float) -> nn.Parameter:
    return nn.Parameter(torch.randn(*shape) * sigma)


def _project(X: torch.Tensor, W: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    """X_t W + b for every time step at once: (steps, batch, inputs) -> (steps, batch, outputs)."""
    steps, batch, _ = X.shape
    return torch.addmm(b, X.reshape(steps * batch, -1), W).view(steps, batch, -1)


class RNNLayer(nn.Module):
    """H_t = tanh(X_t W_xh + H_{t-1} W_hh + b_h)."""

    num_gates = 1

    def __init__(self, num_inputs: int, num_hiddens: int, sigma: float = SIGMA) -> None:
        super().__init__()
        self.num_hiddens = num_hiddens
        self.W_xh = _weights(num_inputs, num_hiddens, sigma=sigma)
        self.W_hh = _weights(num_hiddens, num_hiddens, sigma=sigma)
        self.b_h = nn.Parameter(torch.zeros(num_hiddens))

    def forward(self, X: torch.Tensor, H: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        XW = _project(X, self.W_xh, self.b_h)  # X_t W_xh + b_h, all t
        outputs = []
        for XW_t in XW.unbind(0):  # unbind, not XW[t]: one backward node for all steps
            H = torch.tanh(torch.addmm(XW_t, H, self.W_hh))  # + H_{t-1} W_hh
            outputs.append(H)
        return torch.stack(outputs), H

    def torch_state_dict(self) -> dict[str, torch.Tensor]:
        """These weights in torch.nn.RNN's layout (weight_ih = W_xh^T, ...; hidden bias zero)."""
        return _nn_layout([self.W_xh], [self.W_hh], [self.b_h])


class GRULayer(nn.Module):
    """Gated recurrent unit.

    R_t = sigma(X_t W_xr + H_{t-1} W_hr + b_r)            reset gate
    Z_t = sigma(X_t W_xz + H_{t-1} W_hz + b_z)            update gate
    H~_t = tanh(X_t W_xh + R_t * (H_{t-1} W_hh) + b_h)    candidate state
    H_t = Z_t * H_{t-1} + (1 - Z_t) * H~_t

    The candidate applies the reset gate after the recurrent matmul, as cuDNN and torch.nn.GRU do. The
    book writes ``(R_t * H_{t-1}) W_hh`` (Cho et al., 2014); ``reset_after=False`` computes that form.
    """

    num_gates = 3

    def __init__(self, num_inputs: int, num_hiddens: int, sigma: float = SIGMA, reset_after: bool = True) -> None:
        super().__init__()
        self.num_hiddens = num_hiddens
        self.reset_after = reset_after
        for gate in "rzh":
            setattr(self, f"W_x{gate}", _weights(num_inputs, num_hiddens, sigma=sigma))
            setattr(self, f"W_h{gate}", _weights(num_hiddens, num_hiddens, sigma=sigma))
            setattr(self, f"b_{gate}", nn.Parameter(torch.zeros(num_hiddens)))

    def forward(self, X: torch.Tensor, H: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        h = self.num_hiddens
        W_x = torch.cat([self.W_xr, self.W_xz, self.W_xh], 1)
        W_h = torch.cat([self.W_hr, self.W_hz, self.W_hh], 1)
        XW = _project(X, W_x, torch.cat([self.b_r, self.b_z, self.b_h]))  # (steps, batch, 3h), all t
        outputs = []
        for XW_t in XW.unbind(0):
            if self.reset_after:
                HW = H @ W_h  # H_{t-1} [W_hr | W_hz | W_hh]
                R, Z = torch.sigmoid(XW_t[:, : 2 * h] + HW[:, : 2 * h]).chunk(2, 1)
                H_tilde = torch.tanh(torch.addcmul(XW_t[:, 2 * h :], R, HW[:, 2 * h :]))
            else:
                R, Z = torch.sigmoid(torch.addmm(XW_t[:, : 2 * h], H, W_h[:, : 2 * h])).chunk(2, 1)
                H_tilde = torch.tanh(torch.addmm(XW_t[:, 2 * h :], R * H, self.W_hh))
            H = torch.lerp(H_tilde, H, Z)  # Z * H + (1 - Z) * H~
            outputs.append(H)
        return torch.stack(outputs), H

    def torch_state_dict(self) -> dict[str, torch.Tensor]:
        if not self.reset_after:
            raise ValueError("torch.nn.GRU computes the reset_after form only")
        return _nn_layout(
            [self.W_xr, self.W_xz, self.W_xh], [self.W_hr, self.W_hz, self.W_hh], [self.b_r, self.b_z, self.b_h]
        )


class LSTMLayer(nn.Module):
    """Long short-term memory.

    I_t = sigma(X_t W_xi + H_{t-1} W_hi + b_i)      input gate
    F_t = sigma(X_t W_xf + H_{t-1} W_hf + b_f)      forget gate
    O_t = sigma(X_t W_xo + H_{t-1} W_ho + b_o)      output gate
    C~_t = tanh(X_t W_xc + H_{t-1} W_hc + b_c)      input node (candidate memory)
    C_t = F_t * C_{t-1} + I_t * C~_t
    H_t = O_t * tanh(C_t)

    The time loop and its backward pass (BPTT, written out) are in ``LSTMSequence``.
    """

    num_gates = 4

    def __init__(self, num_inputs: int, num_hiddens: int, sigma: float = SIGMA) -> None:
        super().__init__()
        self.num_hiddens = num_hiddens
        for gate in "ifoc":
            setattr(self, f"W_x{gate}", _weights(num_inputs, num_hiddens, sigma=sigma))
            setattr(self, f"W_h{gate}", _weights(num_hiddens, num_hiddens, sigma=sigma))
            setattr(self, f"b_{gate}", nn.Parameter(torch.zeros(num_hiddens)))

    def forward(
        self, X: torch.Tensor, state: tuple[torch.Tensor, torch.Tensor]
    ) -> tuple[torch.Tensor, tuple[torch.Tensor, torch.Tensor]]:
        H, C = state
        W_x = torch.cat([self.W_xi, self.W_xf, self.W_xo, self.W_xc], 1)
        W_h = torch.cat([self.W_hi, self.W_hf, self.W_ho, self.W_hc], 1)
        XW = _project(X, W_x, torch.cat([self.b_i, self.b_f, self.b_o, self.b_c]))  # (steps, batch, 4h)
        outputs, H, C = LSTMSequence.apply(XW, W_h, H, C)
        return outputs, (H, C)

    def torch_state_dict(self) -> dict[str, torch.Tensor]:
        """torch.nn.LSTM orders the gates i, f, g (= c), o."""
        return _nn_layout(
            [self.W_xi, self.W_xf, self.W_xc, self.W_xo], [self.W_hi, self.W_hf, self.W_hc, self.W_ho],
            [self.b_i, self.b_f, self.b_c, self.b_o],
        )


class LSTMSequence(torch.autograd.Function):
    """The LSTM equations over all time steps, with backpropagation through time written out.

    Autograd would record a dozen small operations per step and replay each one backwards; here the
    backward pass is the BPTT recursion itself, six tensor operations per step, with the local
    derivatives of every step computed in one go and the recurrent weights' gradient as one matmul
    over all steps (as cuDNN and oneDNN compute it). ``tests/test_models.py`` checks it against
    torch.nn.LSTM and with ``torch.autograd.gradcheck``.

    XW: (steps, batch, 4h), the input projections X_t [W_xi|W_xf|W_xo|W_xc] + b; W_h: (h, 4h).
    Returns the outputs H_1..H_T (steps, batch, h) and the final H_T and C_T.
    """

    @staticmethod
    def forward(ctx, XW: torch.Tensor, W_h: torch.Tensor, H: torch.Tensor, C: torch.Tensor):
        steps, batch, four_h = XW.shape
        h = four_h // 4
        gates = XW.new_empty(steps, batch, four_h)  # I, F, O (after sigmoid) | C~ (after tanh), per step
        Hs = XW.new_empty(steps + 1, batch, h)  # H_0 .. H_T
        Cs = XW.new_empty(steps + 1, batch, h)  # C_0 .. C_T
        tanh_C = XW.new_empty(steps, batch, h)
        Hs[0], Cs[0] = H, C
        # per-step views, made once (indexing inside the loop costs as much as a small kernel)
        XW_t, H_t, C_t, tanh_C_t = XW.unbind(0), Hs.unbind(0), Cs.unbind(0), tanh_C.unbind(0)
        sigmoid_part, tanh_part = gates[..., : 3 * h].unbind(0), gates[..., 3 * h :].unbind(0)
        I, F, O, C_tilde = (gate.unbind(0) for gate in gates.chunk(4, 2))
        recurrent = RecurrentMatmul(W_h, batch)
        for t in range(steps):
            pre = recurrent(H_t[t], plus=XW_t[t])  # X_t W_x* + H_{t-1} W_h* + b_*
            torch.sigmoid(pre[:, : 3 * h], out=sigmoid_part[t])  # I_t, F_t, O_t
            torch.tanh(pre[:, 3 * h :], out=tanh_part[t])  # C~_t
            torch.mul(F[t], C_t[t], out=C_t[t + 1]).addcmul_(I[t], C_tilde[t])  # C_t = F_t * C_{t-1} + I_t * C~_t
            torch.tanh(C_t[t + 1], out=tanh_C_t[t])
            torch.mul(O[t], tanh_C_t[t], out=H_t[t + 1])  # H_t = O_t * tanh(C_t)
        ctx.save_for_backward(W_h, gates, Hs, Cs, tanh_C)
        return Hs[1:], Hs[-1].clone(), Cs[-1].clone()

    @staticmethod
    def backward(ctx, dOut: torch.Tensor | None, dH_T: torch.Tensor | None, dC_T: torch.Tensor | None):
        W_h, gates, Hs, Cs, tanh_C = ctx.saved_tensors
        steps, batch, four_h = gates.shape
        h = four_h // 4
        I, F, O, C_tilde = gates.chunk(4, 2)
        # local derivatives of every step at once: d(pre-activation) = [dC | dC | dH | dC] * local, where
        # local = [C~ * sigma'(I), C_{t-1} * sigma'(F), tanh(C) * sigma'(O), I * tanh'(C~)]
        local = torch.empty_like(gates)
        sig = gates[..., : 3 * h]
        torch.mul(sig, 1 - sig, out=local[..., : 3 * h])  # sigma' = sigma (1 - sigma)
        local[..., :h].mul_(C_tilde)
        local[..., h : 2 * h].mul_(Cs[:-1])
        local[..., 2 * h : 3 * h].mul_(tanh_C)
        torch.mul(C_tilde, C_tilde, out=local[..., 3 * h :]).neg_().add_(1).mul_(I)  # tanh' = 1 - tanh^2
        O_dtanh = (tanh_C * tanh_C).neg_().add_(1).mul_(O)  # dC_t/dH_t through H_t = O_t * tanh(C_t)
        if dOut is None:
            dOut = torch.zeros_like(Hs[1:])
        dH = dOut[-1] if dH_T is None else dOut[-1] + dH_T  # gradient reaching H_T
        dC = torch.zeros_like(Cs[0]) if dC_T is None else dC_T
        dG = torch.empty_like(gates)
        local4, dG4 = local.view(steps, batch, 4, h).unbind(0), dG.view(steps, batch, 4, h).unbind(0)
        local_O, dG_O = local[..., 2 * h : 3 * h].unbind(0), dG[..., 2 * h : 3 * h].unbind(0)
        dG_t, dOut_t, F_t, O_dtanh_t = dG.unbind(0), dOut.unbind(0), F.unbind(0), O_dtanh.unbind(0)
        recurrent_T = RecurrentMatmul(W_h.T, batch)
        for t in range(steps - 1, -1, -1):
            dC = torch.addcmul(dC, dH, O_dtanh_t[t])
            torch.mul(local4[t], dC.unsqueeze(1), out=dG4[t])  # the I, F and C~ slots take dC ...
            torch.mul(local_O[t], dH, out=dG_O[t])  # ... the O slot takes dH
            # gradient reaching H_{t-1}: from its output and through H_{t-1} W_h* of step t
            dH = recurrent_T(dG_t[t], plus=dOut_t[t - 1] if t > 0 else None)
            dC = dC * F_t[t]  # through F_t * C_{t-1}
        dW_h = Hs[:-1].reshape(-1, h).T @ dG.reshape(-1, four_h)  # sum_t H_{t-1}^T dG_t
        return dG, dW_h, dH, dC


def _mkl_packing_works() -> bool:
    if not torch.backends.mkl.is_available():
        return False
    try:
        weight = torch.ones(4, 3)
        packed = torch.ops.mkl._mkl_reorder_linear_weight(weight, 2)
        return bool(torch.ops.mkl._mkl_linear(torch.ones(2, 3), packed, weight, None, 2).eq(3).all())
    except (AttributeError, RuntimeError, NotImplementedError):
        return False


_MKL_PACKING = _mkl_packing_works()


class RecurrentMatmul:
    """``H @ W (+ plus)`` for the many H of one sequence and one fixed W.

    On CPU with MKL, W is packed into the GEMM kernel's layout once per sequence (MKL's packed
    sgemm, which PyTorch's own compiler uses for linear layers) instead of at every one of the
    time steps; oneDNN's fused LSTM does the same. Elsewhere it is a plain ``addmm``.
    """

    def __init__(self, W: torch.Tensor, rows: int) -> None:
        self.W = W
        self.packed = None
        if _MKL_PACKING and W.device.type == "cpu" and W.dtype == torch.float32:
            weight = W.T.contiguous()  # the (out, in) layout of a linear layer
            self.packed = (torch.ops.mkl._mkl_reorder_linear_weight(weight, rows), weight, rows)

    def __call__(self, H: torch.Tensor, plus: torch.Tensor | None = None) -> torch.Tensor:
        if self.packed is None:
            return H @ self.W if plus is None else torch.addmm(plus, H, self.W)
        packed, weight, rows = self.packed
        out = torch.ops.mkl._mkl_linear(H, packed, weight, None, rows)
        return out if plus is None else out.add_(plus)


def _nn_layout(W_x: list, W_h: list, b: list) -> dict[str, torch.Tensor]:
    bias = torch.cat([t.detach() for t in b])
    return {
        "weight_ih": torch.cat([w.detach() for w in W_x], 1).T.contiguous(),
        "weight_hh": torch.cat([w.detach() for w in W_h], 1).T.contiguous(),
        "bias_ih": bias.clone(),
        "bias_hh": torch.zeros_like(bias),
    }


LAYERS = {"rnn": RNNLayer, "gru": GRULayer, "lstm": LSTMLayer}


class ScratchRNN(nn.Module):
    """A stack of scratch layers with the interface of torch.nn.RNN / GRU / LSTM (time-major)."""

    def __init__(
        self, kind: str, num_inputs: int, num_hiddens: int, num_layers: int = 1, dropout: float = 0.0,
        sigma: float = SIGMA,
    ) -> None:
        super().__init__()
        self.kind = kind
        self.num_hiddens = num_hiddens
        self.num_layers = num_layers
        self.dropout = nn.Dropout(dropout)
        layer = LAYERS[kind]
        self.layers = nn.ModuleList(
            layer(num_inputs if i == 0 else num_hiddens, num_hiddens, sigma=sigma) for i in range(num_layers)
        )

    def forward(self, X: torch.Tensor, state=None):
        """X: (steps, batch, inputs); state: (layers, batch, hiddens), or (H, C) for the LSTM."""
        if state is None:
            zeros = X.new_zeros(self.num_layers, X.shape[1], self.num_hiddens)
            state = (zeros, zeros) if self.kind == "lstm" else zeros
        new_states = []
        for i, layer in enumerate(self.layers):
            if i > 0:
                X = self.dropout(X)
            layer_state = (state[0][i], state[1][i]) if self.kind == "lstm" else state[i]
            X, layer_state = layer(X, layer_state)
            new_states.append(layer_state)
        if self.kind == "lstm":
            return X, (torch.stack([s[0] for s in new_states]), torch.stack([s[1] for s in new_states]))
        return X, torch.stack(new_states)

    def torch_state_dict(self) -> dict[str, torch.Tensor]:
        """The whole stack in the state-dict layout of the torch.nn twin (``weight_ih_l0``, ...)."""
        return {
            f"{name}_l{i}": tensor
            for i, layer in enumerate(self.layers)
            for name, tensor in layer.torch_state_dict().items()
        }
