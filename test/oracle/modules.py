"""PyTorch's own modules with the engine's weights (modules.test.ts): nn.BatchNorm2d in training and
eval mode (the output, the input's gradient, the running statistics), nn.MultiheadAttention
(causal and not, batch first and not), nn.LayerNorm, nn.GroupNorm, nn.Embedding. JSON in, JSON out."""
import json
import sys

import torch


def t(v, dtype=torch.float64):
    return torch.tensor(v['data'], dtype=dtype).reshape(v['shape'])


def flat(x):
    return x.detach().to(torch.float64).reshape(-1).tolist()


def run(case):
    kind = case['kind']
    x = t(case['x']).requires_grad_(True)
    g = t(case['g'])
    out = {}
    if kind == 'batchNorm2d':
        m = torch.nn.BatchNorm2d(case['c'], dtype=torch.float64)
        with torch.no_grad():
            m.weight.copy_(t(case['weight']))
            m.bias.copy_(t(case['bias']))
        y = m(x)
        (y * g).sum().backward()
        out = {'y': flat(y), 'gx': flat(x.grad), 'gw': flat(m.weight.grad), 'gb': flat(m.bias.grad),
               'runningMean': flat(m.running_mean), 'runningVar': flat(m.running_var)}
        m.eval()
        out['eval'] = flat(m(x))
    elif kind == 'multiheadAttention':
        e, h = case['e'], case['h']
        m = torch.nn.MultiheadAttention(e, h, batch_first=case['batchFirst'], dtype=torch.float64)
        with torch.no_grad():
            m.in_proj_weight.copy_(t(case['inW']))
            m.in_proj_bias.copy_(t(case['inB']))
            m.out_proj.weight.copy_(t(case['outW']))
            m.out_proj.bias.copy_(t(case['outB']))
        L = x.shape[1] if case['batchFirst'] else x.shape[0]
        mask = torch.triu(torch.ones(L, L, dtype=torch.bool), 1) if case['causal'] else None
        y, _ = m(x, x, x, attn_mask=mask, need_weights=False)
        (y * g).sum().backward()
        out = {'y': flat(y), 'gx': flat(x.grad), 'gInW': flat(m.in_proj_weight.grad), 'gOutW': flat(m.out_proj.weight.grad)}
    return out


def main():
    cases = json.load(sys.stdin)['cases']
    json.dump({c['name']: run(c) for c in cases}, sys.stdout)


if __name__ == '__main__':
    main()
