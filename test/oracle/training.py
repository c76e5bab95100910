"""Trains the oracle's cases with torch.optim and torch.optim.lr_scheduler: the same model, weights,
data, minibatches (row indices per step) and dropout masks as the Backprop Lens run, and records
the learning rate, loss and parameters after every step, the validation loss (eval mode) at the
logged steps, and the buffers at the end. JSON in (stdin), JSON out (stdout)."""
import bisect
import json
import math
import sys

import torch
import torch.nn as nn
import torch.nn.functional as F

DTYPES = {'float32': torch.float32, 'float64': torch.float64}


class GivenDropout(nn.Module):
    """Dropout with the masks the Backprop Lens run drew (already scaled by 1/(1-p)), one per step."""

    def __init__(self):
        super().__init__()
        self.mask = None

    def forward(self, x):
        return x * self.mask if self.training else x


def build(layers, dtype):
    mods = []
    for spec in layers:
        kind = spec['kind']
        if kind == 'linear':
            mods.append(nn.Linear(spec['in'], spec['out'], bias=spec['bias'], dtype=dtype))
        elif kind == 'batchNorm1d':
            mods.append(nn.BatchNorm1d(spec['features'], eps=spec['eps'], momentum=spec['momentum'], dtype=dtype))
        elif kind == 'dropout':
            mods.append(GivenDropout())
        else:
            mods.append({'tanh': nn.Tanh, 'relu': nn.ReLU, 'sigmoid': nn.Sigmoid}[kind]())
    return nn.Sequential(*mods)


def optimizer(params, spec):
    o = dict(spec['options'])
    name = spec['name']
    args = {'lr': o['lr'], 'weight_decay': o.get('weightDecay', 0)}
    if name == 'sgd':
        return torch.optim.SGD(params, momentum=o.get('momentum', 0), dampening=o.get('dampening', 0), nesterov=o.get('nesterov', False), **args)
    if name == 'adagrad':
        return torch.optim.Adagrad(params, lr_decay=o.get('lrDecay', 0), initial_accumulator_value=o.get('initialAccumulatorValue', 0), eps=o.get('eps', 1e-10), **args)
    if name == 'rmsprop':
        return torch.optim.RMSprop(params, alpha=o.get('alpha', 0.99), eps=o.get('eps', 1e-8), momentum=o.get('momentum', 0), centered=o.get('centered', False), **args)
    if name == 'adadelta':
        return torch.optim.Adadelta(params, rho=o.get('rho', 0.9), eps=o.get('eps', 1e-6), **args)
    betas = (o.get('beta1', 0.9), o.get('beta2', 0.999))
    if name == 'adam':
        return torch.optim.Adam(params, betas=betas, eps=o.get('eps', 1e-8), amsgrad=o.get('amsgrad', False), **args)
    if name == 'adamw':
        args['weight_decay'] = o.get('weightDecay', 0.01)
        return torch.optim.AdamW(params, betas=betas, eps=o.get('eps', 1e-8), amsgrad=o.get('amsgrad', False), **args)
    if name == 'adamax':
        return torch.optim.Adamax(params, betas=betas, eps=o.get('eps', 1e-8), **args)
    if name == 'nadam':
        # foreach: in PyTorch 1.13 the single-tensor NAdam multiplies mu in twice
        # (mu_product_next = mu_product * mu * mu_next), fixed in 2.0 by pytorch/pytorch#92699; the
        # multi-tensor implementation of 1.13 has the corrected rule
        opt = torch.optim.NAdam(params, betas=betas, eps=o.get('eps', 1e-8), momentum_decay=o.get('momentumDecay', 4e-3), foreach=True, **args)
        # 1.13 keeps the product of the mu's in a float32 tensor (torch.tensor(1.)): start it in
        # float64, so the rule is computed in double precision as the rest of a float64 run
        for p in params:
            opt.state[p] = {'step': torch.tensor(0., dtype=torch.float64), 'mu_product': torch.tensor(1., dtype=torch.float64),
                            'exp_avg': torch.zeros_like(p), 'exp_avg_sq': torch.zeros_like(p)}
        return opt
    raise ValueError('unknown optimizer %s' % name)


def scheduler(opt, spec, base):
    """torch.optim.lr_scheduler where PyTorch has the schedule; LambdaLR with the documented formula
    (TensorFlow's, for piecewise, inverse time, polynomial with an end rate, warm-up and restarts with
    mMul or alpha) where it has not."""
    kind, o = spec['kind'], spec['options']
    S = torch.optim.lr_scheduler
    if kind == 'constant':
        return None
    if kind == 'step':
        return S.StepLR(opt, step_size=o['stepSize'], gamma=o['gamma'])
    if kind == 'exponential':
        if o['staircase']:
            return S.StepLR(opt, step_size=o['decaySteps'], gamma=o['decayRate'])
        return S.ExponentialLR(opt, gamma=o['decayRate'] ** (1.0 / o['decaySteps']))
    if kind == 'polynomial' and o['endLr'] == 0:
        return S.PolynomialLR(opt, total_iters=o['decaySteps'], power=o['power'])
    if kind == 'polynomial':
        n, end, p = o['decaySteps'], o['endLr'], o['power']
        return S.LambdaLR(opt, lambda t: ((base - end) * (1 - min(t, n) / n) ** p + end) / base)
    if kind == 'cosine' and o['warmupSteps'] == 0:
        return S.CosineAnnealingLR(opt, T_max=o['totalSteps'], eta_min=o['minLr'])
    if kind == 'cosine':
        w, T, lo = o['warmupSteps'], o['totalSteps'], o['minLr']

        def warm_cosine(t):
            if t < w:
                return (t + 1) / w
            return (lo + 0.5 * (base - lo) * (1 + math.cos(math.pi * min(1.0, (t - w) / (T - w))))) / base
        return S.LambdaLR(opt, warm_cosine)
    if kind == 'piecewise':
        # PiecewiseConstantDecay: values[i] for boundaries[i-1] < t <= boundaries[i]
        b, v = o['boundaries'], o['values']
        return S.LambdaLR(opt, lambda t: v[bisect.bisect_left(b, t)] / base)
    if kind == 'inverseTime':
        r, n = o['decayRate'], o['decaySteps']
        return S.LambdaLR(opt, lambda t: 1 / (1 + r * ((t // n) if o['staircase'] else t / n)))
    if kind == 'cosineRestarts' and o['mMul'] == 1 and o['alpha'] == 0 and float(o['tMul']).is_integer():
        return S.CosineAnnealingWarmRestarts(opt, T_0=o['firstDecaySteps'], T_mult=int(o['tMul']))
    if kind == 'cosineRestarts':
        first, tm, mm, alpha = o['firstDecaySteps'], o['tMul'], o['mMul'], o['alpha']

        def sgdr(t):
            f = t / first
            if tm == 1:
                i = math.floor(f)
                f -= i
            else:
                i = math.floor(math.log(1 - f * (1 - tm)) / math.log(tm))
                f = (f - (1 - tm ** i) / (1 - tm)) / tm ** i
            return (1 - alpha) * 0.5 * mm ** i * (1 + math.cos(math.pi * f)) + alpha
        return S.LambdaLR(opt, sgdr)
    if kind == 'cyclic':
        mode = {'triangular': 'triangular', 'triangular2': 'triangular2', 'expRange': 'exp_range'}[o['mode']]
        return S.CyclicLR(opt, base_lr=o.get('baseLr', base), max_lr=o['maxLr'], step_size_up=o['stepSize'], mode=mode, gamma=o['gamma'], cycle_momentum=False)
    raise ValueError('unknown schedule %s' % kind)


def flat(t):
    return [v if math.isfinite(v) else str(v) for v in t.detach().to(torch.float64).reshape(-1).tolist()]


def run(case):
    dtype = DTYPES[case['dtype']]
    model = build(case['layers'], dtype)
    params = list(model.parameters())
    with torch.no_grad():
        for p, v in zip(params, case['params']):
            p.copy_(torch.tensor(v, dtype=torch.float64).reshape(p.shape))
    loss_fn = {'mse': F.mse_loss, 'bceWithLogits': F.binary_cross_entropy_with_logits}[case['loss']]
    X = torch.tensor(case['x'], dtype=dtype)
    Y = torch.tensor(case['y'], dtype=dtype)
    XV = torch.tensor(case['xv'], dtype=dtype) if case.get('xv') else None
    YV = torch.tensor(case['yv'], dtype=dtype) if case.get('yv') else None
    opt = optimizer(params, case['optimizer'])
    sched = scheduler(opt, case['schedule'], case['optimizer']['options']['lr'])
    drops = [m for m in model if isinstance(m, GivenDropout)]
    steps = []
    model.train()
    for t, rows in enumerate(case['rows']):
        for d, mask in zip(drops, case['masks'][t] if case['masks'] else []):
            d.mask = torch.tensor(mask, dtype=dtype).reshape(len(rows), -1)
        idx = torch.tensor(rows)
        opt.zero_grad()
        loss = loss_fn(model(X[idx]), Y[idx])
        loss.backward()
        if case.get('clipValue') is not None:
            torch.nn.utils.clip_grad_value_(params, case['clipValue'])
        if case.get('clipNorm') is not None:
            torch.nn.utils.clip_grad_norm_(params, case['clipNorm'])
        lr = opt.param_groups[0]['lr']
        opt.step()
        if sched is not None:
            sched.step()
        rec = {'loss': loss.item(), 'lr': lr, 'params': [flat(p) for p in params]}
        if XV is not None and (t + 1) in case['logged']:
            model.eval()
            with torch.no_grad():
                rec['valLoss'] = loss_fn(model(XV), YV).item()
            model.train()
        steps.append(rec)
    buffers = [flat(b) for name, b in model.named_buffers() if not name.endswith('num_batches_tracked')]
    return {'steps': steps, 'buffers': buffers}


def main():
    request = json.load(sys.stdin)
    out = {}
    for case in request['cases']:
        try:
            out[case['id']] = run(case)
        except Exception as e:  # reported per case, with its name
            out[case['id']] = {'error': '%s: %s' % (type(e).__name__, e)}
    json.dump(out, sys.stdout)


if __name__ == '__main__':
    main()
