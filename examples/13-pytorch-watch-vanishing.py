"""
13 · Watching your own PyTorch training loop: a deep sigmoid network whose gradients vanish.

`watch(model, every=20)` records, every 20 steps, each layer's weights, gradients, activations and
their gradients, and the update/weight ratio; the loss comes from the `.backward()` calls. Run it
with **Backprop Lens: Train** (or `npx backprop-lens train examples/13-pytorch-watch-vanishing.py`):
the training view draws the loss curve, the histograms and the gradient flow, and the diagnosis
names the layer where the gradients vanish and what to try. The script runs unchanged with plain
`python` too (`PYTHONPATH=<extension>/python`).

What to look at: mean |∂L/∂W| of the first layer is orders of magnitude below the last's; the
diagnosis suggests ReLU and Xavier/He initialization. Swap nn.Sigmoid for nn.ReLU and watch it heal.
"""
import torch
from torch import nn
from backprop_lens import watch

torch.manual_seed(0)

inputs = torch.randn(256, 8)
targets = (inputs[:, :1] * inputs[:, 1:2] > 0).float()

layers = []
for i in range(6):
    linear = nn.Linear(8, 8)
    nn.init.normal_(linear.weight, std=0.05)
    layers += [linear, nn.Sigmoid()]
model = nn.Sequential(*layers, nn.Linear(8, 1))

optimizer = torch.optim.SGD(model.parameters(), lr=0.5)
loss_fn = nn.BCEWithLogitsLoss()
watch(model, every=20)

for step in range(200):
    optimizer.zero_grad()
    loss = loss_fn(model(inputs), targets)
    loss.backward()
    optimizer.step()
