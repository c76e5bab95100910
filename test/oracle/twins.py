"""PyTorch twins of the examples and lecture cases: each one writes the model file's computation
again in PyTorch, from the leaves of the model file's snapshot (its parameters, inputs and data,
looked up by name), and returns the values it names. The driver then takes d(output)/d(value)
for each with torch.autograd.grad. JSON in (stdin), JSON out (stdout).

A twin gets `g`: g.leaf(key, k=0) is the k-th leaf with that key (a parameter's key includes its
module scope, e.g. 'hidden.weight'), g.constants() the unnamed constant leaves in forward order."""
import json
import math
import sys

import torch
import torch.nn.functional as F

DTYPES = {'float32': torch.float32, 'float64': torch.float64, 'int32': torch.int64}


class Graph:
    def __init__(self, leaves):
        self._leaves = leaves
        self.made = {}

    def _tensor(self, node, i):
        key = ('leaf', i)
        if key not in self.made:
            # NaN and ±Infinity arrive as strings (a causal mask's −∞)
            values = [float(v) if isinstance(v, str) else v for v in node['value']]
            t = torch.tensor(values, dtype=DTYPES[node['dtype']]).reshape(node['shape'])
            if node['requiresGrad']:
                t.requires_grad_(True)
            self.made[key] = t
        return self.made[key]

    def leaf(self, key, k=0):
        hits = [i for i, n in enumerate(self._leaves) if n['key'] == key]
        if len(hits) <= k:
            raise KeyError('no leaf %r (#%d) in the snapshot: %s' % (key, k, sorted({n['key'] for n in self._leaves})))
        return self._tensor(self._leaves[hits[k]], hits[k])

    def constants(self):
        return [self._tensor(n, i) for i, n in enumerate(self._leaves) if n['key'] is None and n['leaf'] == 'constant' and n['shape']]

    def leaves(self):
        """Every leaf made so far, by key (their gradients are compared too)."""
        out = {}
        for (_, i), t in self.made.items():
            if self._leaves[i]['key'] is not None:
                out.setdefault(self._leaves[i]['key'], []).append(t)
        return out


def linear(x, g, scope):
    return F.linear(x, g.leaf(scope + '.weight'), g.leaf(scope + '.bias'))


# ---- the examples -------------------------------------------------------------------------------

def add_mul(g):
    x, y, z = g.leaf('x'), g.leaf('y'), g.leaf('z')
    q = x + y
    f = q * z
    return f, {'q': q, 'f': f}


def sigmoid_neuron(g):
    w0, w1, w2, x0, x1 = (g.leaf(k) for k in ('w0', 'w1', 'w2', 'x0', 'x1'))
    wx0 = w0 * x0
    wx1 = w1 * x1
    sum01 = wx0 + wx1
    dot = sum01 + w2
    p = torch.sigmoid(dot)
    loss = F.binary_cross_entropy(p, torch.tensor(1.0, dtype=p.dtype))
    return loss, {'wx0': wx0, 'wx1': wx1, 'sum01': sum01, 'dot': dot, 'p': p, 'loss': loss}


def linear_relu_regression(g):
    w, b, x = g.leaf('w'), g.leaf('b'), g.leaf('x')
    wx = w * x
    z = wx + b
    y_hat = torch.relu(z)
    err = y_hat - 4
    loss = err ** 2
    return loss, {'wx': wx, 'z': z, 'y_hat': y_hat, 'err': err, 'loss': loss}


def two_layer_sigmoid(g):
    x, label = g.leaf('x'), g.leaf('label')
    z1 = g.leaf('W1') @ x + g.leaf('b1')
    h = torch.sigmoid(z1)
    z2 = g.leaf('W2') @ h + g.leaf('b2')
    p = torch.sigmoid(z2)
    loss = F.binary_cross_entropy(p, label)
    return loss, {'z1': z1, 'h': h, 'z2': z2, 'p': p, 'loss': loss}


def deep_tanh_vanishing(g):
    h = g.leaf('x')
    zs, hs = [], []
    for i in range(10):
        z = linear(h, g, 'layer%d' % i)
        h = torch.tanh(z)
        zs.append(z)
        hs.append(h)
    loss = F.mse_loss(h, g.leaf('target'))
    return loss, {'z': zs, 'h': hs, 'loss': loss}


def xor_mlp(g):
    X, Y = g.leaf('X'), g.leaf('Y')
    z1 = linear(X, g, 'hidden')
    h = torch.tanh(z1)
    z2 = linear(h, g, 'output')
    p = torch.sigmoid(z2)
    loss = F.binary_cross_entropy(p, Y)
    return loss, {'z1': z1, 'h': h, 'z2': z2, 'p': p, 'loss': loss}


def minimize_quadratic(g):
    return g.leaf('x') ** 2, {}


def mlp_step(scopes, activation):
    """One training step's loss: the first minibatch (the traced step names it x and y) through the
    layers, binary cross-entropy on the logits."""
    def twin(g):
        x, y = g.leaf('x'), g.leaf('y')
        h = x
        for i, scope in enumerate(scopes):
            h = linear(h, g, scope)
            if i < len(scopes) - 1:
                h = activation(h)
        return F.binary_cross_entropy_with_logits(h, y), {}
    return twin


# ---- lecture cases (test/oracle/lectures) -----------------------------------------------------

def micrograd_readme(g):
    a, b = g.leaf('a'), g.leaf('b')
    c = [a + b]
    d = [a * b + b ** 3]
    c.append(c[-1] + (c[-1] + 1))
    c.append(c[-1] + (1 + c[-1] + (-a)))
    d.append(d[-1] + (d[-1] * 2 + torch.relu(b + a)))
    d.append(d[-1] + (3 * d[-1] + torch.relu(b - a)))
    e = c[-1] - d[-1]
    f = e ** 2
    gs = [f / 2]
    gs.append(gs[-1] + 10.0 / f)
    return gs[-1], {'c': c, 'd': d, 'e': e, 'f': f, 'g': gs}


def sigmoid_circuit(g):
    w0, x0, w1, x1, w2 = (g.leaf(k) for k in ('w0', 'x0', 'w1', 'x1', 'w2'))
    dot = w0 * x0 + w1 * x1 + w2
    f = 1 / (1 + torch.exp(-dot))
    return f, {'dot': dot, 'f': f}


def softmax_classifier(g):
    W, b, X = g.leaf('W'), g.leaf('b'), g.leaf('X')
    scores = X @ W + b
    loss = F.cross_entropy(scores, torch.tensor([2, 0, 1]))
    return loss, {'scores': scores, 'loss': loss}


def x_exp_x_derivatives(g):
    x = g.leaf('x')
    y = x * torch.exp(x)
    for _ in range(3):
        y, = torch.autograd.grad(y, [x], create_graph=True)
    return y, {}


def digits_cnn(g):
    """One training step's loss of the CNN: the first minibatch (x, the images, and y, their labels)
    through conv, ReLU, max pooling twice and the linear head."""
    x, y = g.leaf('x'), g.leaf('y')
    hs = [x.reshape(-1, 1, 8, 8)]
    for conv in ('cnn.conv1', 'cnn.conv2'):
        hs.append(F.max_pool2d(F.relu(F.conv2d(hs[-1], g.leaf(conv + '.weight'), g.leaf(conv + '.bias'), padding=1)), 2))
    logits = linear(hs[-1].reshape(-1, 64), g, 'cnn.head')
    return F.cross_entropy(logits, y), {'h': hs}


def char_attention(g):
    """One training step of the character model: the first minibatch (x and y) through the embeddings, one causal attention head (PyTorch's MultiheadAttention
    arithmetic with one head, written out) and the linear head, cross-entropy on the next character."""
    x, y = g.leaf('x'), g.leaf('y')
    ids = x.to(torch.int32)
    positions = torch.arange(8, dtype=torch.int32)
    h = F.embedding(ids, g.leaf('model.embed.weight')) + F.embedding(positions, g.leaf('model.position.weight'))
    w, b = g.leaf('model.attention.inProjWeight'), g.leaf('model.attention.inProjBias')
    q, k, v = F.linear(h, w, b).chunk(3, dim=-1)
    length = h.shape[1]
    mask = torch.triu(torch.full((length, length), float('-inf'), dtype=h.dtype), 1)
    attended = torch.softmax(q @ k.transpose(-2, -1) / math.sqrt(q.shape[-1]) + mask, dim=-1) @ v
    mixed = F.linear(attended, g.leaf('model.attention.outProjWeight'), g.leaf('model.attention.outProjBias'))
    last = mixed[:, -1, :]
    logits = linear(last, g, 'model.head')
    return F.cross_entropy(logits, y), {'ids': ids, 'positions': positions, 'h': h, 'mixed': mixed, 'last': last}


def x_sin_x_squared(g):
    x = g.leaf('x')
    square = x * x
    sine = torch.sin(square)
    product = x * sine
    f = product + 1
    return f, {'square': square, 'sine': sine, 'product': product, 'f': f}


TWINS = {
    '01-add-mul.ts': add_mul,
    '02-sigmoid-neuron.ts': sigmoid_neuron,
    '03-linear-relu-regression.ts': linear_relu_regression,
    '04-two-layer-sigmoid.ts': two_layer_sigmoid,
    '05-deep-tanh-vanishing.ts': deep_tanh_vanishing,
    '06-xor-mlp.ts': xor_mlp,
    '07-minimize-quadratic.ts': minimize_quadratic,
    '08-moons-mlp.ts': mlp_step(['model.layers.0', 'model.layers.2'], torch.relu),
    '09-deep-sigmoid-vanishing.ts': mlp_step(['deep.layers.%d' % i for i in range(0, 13, 2)], torch.sigmoid),
    '10-xor-train.ts': mlp_step(['mlp.layers.0', 'mlp.layers.2'], torch.tanh),
    '14-x-sin-x-squared.ts': x_sin_x_squared,
    '15-digits-cnn.ts': digits_cnn,
    '16-char-attention.ts': char_attention,
    'micrograd-readme.ts': micrograd_readme,
    'sigmoid-circuit.ts': sigmoid_circuit,
    'softmax-classifier.ts': softmax_classifier,
    'x-exp-x-derivatives.ts': x_exp_x_derivatives,
}


def flat(t):
    # NaN and ±∞ as the strings JavaScript's Number reads back
    return [v if math.isfinite(v) else ('NaN' if v != v else ('Infinity' if v > 0 else '-Infinity')) for v in t.detach().to(torch.float64).reshape(-1).tolist()]


def run(case):
    g = Graph(case['leaves'])
    out, named = TWINS[case['file']](g)
    values = {'$output': [out]}
    for k, v in named.items():
        values[k] = v if isinstance(v, list) else [v]
    for k, ts in g.leaves().items():
        values.setdefault(k, ts)
    flat_list = [(k, i, t) for k, ts in values.items() for i, t in enumerate(ts)]
    wanted = [t for _, _, t in flat_list if t.requires_grad]
    grads = iter(torch.autograd.grad(out, wanted, allow_unused=True, retain_graph=True))
    result = {}
    for k, i, t in flat_list:
        grad = next(grads) if t.requires_grad else None
        result.setdefault(k, []).append({'dtype': str(t.dtype).replace('torch.', ''), 'shape': list(t.shape), 'value': flat(t), 'grad': None if grad is None else flat(grad)})
    return result


def main():
    request = json.load(sys.stdin)
    out = {}
    for case in request['cases']:
        try:
            out[case['file']] = {'nodes': run(case)}
        except Exception as e:  # reported per case, with the file's name
            out[case['file']] = {'error': '%s: %s' % (type(e).__name__, e)}
    json.dump(out, sys.stdout)


if __name__ == '__main__':
    main()
