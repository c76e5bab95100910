"""torch.autograd.functional.jacobian on the oracle's cases: each names a function of x as a Python
expression (over torch, x and the case's constants). JSON in (stdin), JSON out (stdout)."""
import json
import sys

import torch

DTYPES = {'float32': torch.float32, 'float64': torch.float64}


def run(case):
    dtype = DTYPES[case['dtype']]
    env = {'torch': torch, 'F': torch.nn.functional}
    for name, value in case['consts'].items():
        env[name] = torch.tensor(value, dtype=dtype)
    f = eval('lambda x: ' + case['py'], env)
    x = torch.tensor(case['x'], dtype=dtype)
    J = torch.autograd.functional.jacobian(f, x)
    return {'shape': list(J.shape), 'value': J.detach().to(torch.float64).reshape(-1).tolist(), 'dtype': str(J.dtype).replace('torch.', '')}


def main():
    out = {}
    for case in json.load(sys.stdin)['cases']:
        try:
            out[case['id']] = run(case)
        except Exception as e:  # reported per case
            out[case['id']] = {'error': '%s: %s' % (type(e).__name__, e)}
    json.dump(out, sys.stdout)


if __name__ == '__main__':
    main()
