"""
12 · A small PyTorch MLP (nn.Module) on two moons: one training step's graph, module by module.

The model is a plain nn.Module subclass: Backprop Lens records every torch op its forward ran,
under the module that ran it (`model.hidden`, `model.out`), with the line of your code and the
variable name you wrote, and the backward pass autograd ran from `loss.backward()`.

What to look at: the graph grouped by module scope; the gradients of `model.hidden.weight` and
`model.out.weight` in the inspector; the Diagnosis (healthy: ReLU and He-style init).
"""
import math

import torch
from torch import nn
import torch.nn.functional as F

torch.manual_seed(0)

# two interleaving half circles, 64 points
n = 32
t = torch.linspace(0, math.pi, n)
upper = torch.stack([torch.cos(t), torch.sin(t)], dim=1)
lower = torch.stack([1 - torch.cos(t), 0.5 - torch.sin(t)], dim=1)
inputs = torch.cat([upper, lower]) + 0.1 * torch.randn(2 * n, 2)
labels = torch.cat([torch.zeros(n), torch.ones(n)]).unsqueeze(1)


class MLP(nn.Module):
    def __init__(self):
        super().__init__()
        self.hidden = nn.Linear(2, 16)
        self.out = nn.Linear(16, 1)

    def forward(self, x):
        h = torch.relu(self.hidden(x))
        return self.out(h)


model = MLP()
logits = model(inputs)
loss = F.binary_cross_entropy_with_logits(logits, labels)
loss.backward()
