"""The oracle for watch(): trains watch_mlp.py's model the same steps without Backprop Lens, and
reads from torch (float64, straight from the definitions) what each step's record must say: the
loss, the learning rate, the gradients' global norm; on the recorded steps each layer's weight and
gradient statistics, its output after the activation (retain_grad) and that output's gradient, the
dead or saturated fraction and ||dW||/||W|| over the update. Prints JSON."""
import json
import math
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import torch  # noqa: E402
from torch import nn  # noqa: E402

import watch_mlp  # noqa: E402


def stats(t):
    t = t.detach().double().reshape(-1)
    return {'mean': t.mean().item(), 'std': t.std(unbiased=False).item(), 'norm': t.norm().item(),
            'min': t.min().item(), 'max': t.max().item(), 'count': t.numel(), 'zeros': (t == 0).double().mean().item()}


json.load(sys.stdin)
model, x, y, optimizer, scheduler = watch_mlp.setup()
loss_fn = nn.CrossEntropyLoss()
# (linear, index of the output after its activation, activation)
LAYERS = [(0, 1, 'tanh'), (2, 3, 'relu'), (4, 4, None)]
steps = []
for s in range(1, watch_mlp.STEPS + 1):
    optimizer.zero_grad()
    h = x
    outs = []
    for m in model:
        h = torch.relu(h) if isinstance(m, nn.ReLU) else m(h)  # the same values, out of place: retain_grad sees each
        h.retain_grad()
        outs.append(h)
    loss = loss_fn(h, y)
    loss.backward()
    grads = [p.grad.detach().double() for p in model.parameters()]
    rec = {'step': s, 'loss': loss.item(), 'lr': optimizer.param_groups[0]['lr'],
           'gradNorm': math.sqrt(sum((g * g).sum().item() for g in grads))}
    recorded = s == 1 or s % watch_mlp.EVERY == 0
    if recorded:
        layers = []
        for lin, out, act in LAYERS:
            m = model[lin]
            o = outs[out]
            both = torch.cat([m.weight.grad.double().reshape(-1), m.bias.grad.double().reshape(-1)]).abs()
            entry = {'name': 'model.%d' % lin, 'activation': act, 'weight': stats(m.weight), 'weightGrad': stats(m.weight.grad),
                     'gradMeanAbs': both.mean().item(), 'gradMaxAbs': both.max().item(),
                     'output': stats(o), 'outputGrad': stats(o.grad), 'dead': None, 'saturated': None}
            if act == 'relu':
                entry['dead'] = ((o != 0).sum(0) == 0).double().mean().item()
            if act == 'tanh':
                y2 = o.detach().double()
                entry['saturated'] = (1 - y2 * y2 < 0.1).double().mean().item()
            layers.append(entry)
        before = [model[lin].weight.detach().clone() for lin, _, _ in LAYERS]
    optimizer.step()
    if recorded:
        for entry, (lin, _, _), w0 in zip(layers, LAYERS, before):
            entry['updateRatio'] = ((model[lin].weight.detach() - w0).double().norm() / w0.double().norm()).item()
        rec['layers'] = layers
    scheduler.step()
    steps.append(rec)
print(json.dumps({'steps': steps}))
