"""A watched training loop for watch.test.ts, and the setup its oracle (watch_oracle.py) repeats
without watch: Adam with a StepLR made before watch(), a tanh and an in-place ReLU layer (whose
output is the linear layer's, changed in place), cross-entropy."""
import torch
from torch import nn

STEPS = 10
EVERY = 5


def setup():
    torch.manual_seed(3)
    model = nn.Sequential(nn.Linear(5, 16), nn.Tanh(), nn.Linear(16, 16), nn.ReLU(inplace=True), nn.Linear(16, 3))
    x = torch.randn(64, 5) * 2
    y = torch.randint(0, 3, (64,))
    optimizer = torch.optim.Adam(model.parameters(), lr=0.05)
    scheduler = torch.optim.lr_scheduler.StepLR(optimizer, step_size=4, gamma=0.5)
    return model, x, y, optimizer, scheduler


if __name__ == '__main__':
    from backprop_lens import watch
    model, x, y, optimizer, scheduler = setup()
    watch(model, every=EVERY)
    loss_fn = nn.CrossEntropyLoss()
    for step in range(STEPS):
        optimizer.zero_grad()
        loss = loss_fn(model(x), y)
        loss.backward()
        optimizer.step()
        scheduler.step()
