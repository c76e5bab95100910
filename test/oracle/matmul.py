"""The matmul kernel against torch.matmul (matmul.test.ts): products large enough for the engine's
WebAssembly kernel, in float32 and float64, with each operand transposed or not and with broadcast
batch axes; the product, and both operands' gradients of sum(product * g). JSON in, JSON out."""
import json
import sys

import torch

DTYPES = {'float32': torch.float32, 'float64': torch.float64}


def t(v, dtype):
    return torch.tensor(v['data'], dtype=dtype).reshape(v['shape'])


def flat(x):
    return x.detach().to(torch.float64).reshape(-1).tolist()


def run(case):
    dtype = DTYPES[case['dtype']]
    a = t(case['a'], dtype).requires_grad_(True)
    b = t(case['b'], dtype).requires_grad_(True)
    g = t(case['g'], dtype)
    y = torch.matmul(a.transpose(-2, -1) if case['transA'] else a, b.transpose(-2, -1) if case['transB'] else b)
    (y * g).sum().backward()
    return {'y': flat(y), 'ga': flat(a.grad), 'gb': flat(b.grad)}


cases = json.load(sys.stdin)['cases']
json.dump({case['name']: run(case) for case in cases}, sys.stdout)
