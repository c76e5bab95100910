"""
11 · f = (x + y) · z in PyTorch: the first circuit of the lecture, with PyTorch as the engine.

Backprop Lens runs this file with your Python's PyTorch and shows the graph PyTorch built: every
op with its value and gradient, and the backward pass node by node, with the numbers autograd
passed along each edge (upstream gradient × local gradient = contribution).

  q = x + y = 3,  f = q · z = −12
  ∂f/∂z = q = 3,  ∂f/∂q = z = −4,  ∂f/∂x = ∂f/∂y = −4 (add hands the gradient on unchanged)

What to look at: the same numbers as 01-add-mul.ts, computed by PyTorch; the status line says
which PyTorch and Python ran. Step the backward pass with → in the panel.
"""
import torch

x = torch.tensor(-2.0, dtype=torch.float64, requires_grad=True)
y = torch.tensor(5.0, dtype=torch.float64, requires_grad=True)
z = torch.tensor(-4.0, dtype=torch.float64, requires_grad=True)

q = x + y
f = q * z
f.backward()
