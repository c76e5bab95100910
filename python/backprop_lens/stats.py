"""Tensor summaries with exactly the engine's definitions (engine/stats/summary.ts).

count; min, max, mean, population std and L2 norm over the finite elements (None when there are
none); the fraction of elements exactly 0; NaN and +-Inf counts; a histogram over [min, max] and a
histogram of log10|x| over the finite non-zero elements, both with the engine's edge rules.

All arithmetic is float64. Sums are sequential, in element order, as the engine's loops are: small
inputs are summed by a Python loop, large ones by `cumsum` (a sequential scan in ATen), so both give
the engine's numbers bit for bit; only log10 may differ from V8's in the last place.
"""
import math

import torch

BINS = 30
LOG_BINS = 30
# below this many elements a Python loop is faster than the twenty-odd torch calls of the other path
_SMALL = 192
_NONFINITE = {'nan': 'NaN', 'inf': 'Infinity', '-inf': '-Infinity'}


def _histogram(values, n, bins, lo, hi):
    counts = [0] * bins
    if n == 0:
        return {'lo': 0, 'hi': 0, 'counts': counts}
    if hi == lo:
        counts[bins // 2] = n
        return {'lo': lo - 0.5, 'hi': hi + 0.5, 'counts': counts}
    scale = bins / (hi - lo)
    last = bins - 1
    floor = math.floor
    for v in values:
        i = floor((v - lo) * scale)
        counts[i if i < last else last] += 1
    return {'lo': lo, 'hi': hi, 'counts': counts}


def _log_bounds(log_min, log_max):
    lo = math.floor(log_min)
    hi = math.ceil(log_max)
    return lo, (lo + 1 if hi == lo else hi)


def _summarize_list(data, bins, log_bins):
    count = len(data)
    finite = []
    logs = []
    nan = inf = zeros = 0
    mn = math.inf
    mx = -math.inf
    s = 0.0
    sq = 0.0
    log_min = math.inf
    log_max = -math.inf
    log10 = math.log10
    for v in data:
        if v != v:
            nan += 1
            continue
        if v == math.inf or v == -math.inf:
            inf += 1
            continue
        finite.append(v)
        if v < mn:
            mn = v
        if v > mx:
            mx = v
        s += v
        sq += v * v
        if v == 0:
            zeros += 1
        else:
            lv = log10(abs(v))
            logs.append(lv)
            if lv < log_min:
                log_min = lv
            if lv > log_max:
                log_max = lv
    nf = len(finite)
    mean = s / nf if nf else None
    std = None
    if mean is not None:
        ss = 0.0
        for v in finite:
            ss += (v - mean) * (v - mean)
        std = math.sqrt(ss / nf)
    if logs:
        llo, lhi = _log_bounds(log_min, log_max)
        log_hist = _histogram(logs, len(logs), log_bins, llo, lhi)
    else:
        log_hist = _histogram((), 0, log_bins, 0, 0)
    return {
        'count': count,
        'min': mn if nf else None,
        'max': mx if nf else None,
        'mean': mean,
        'std': std,
        'norm': math.sqrt(sq) if nf else None,
        'zeros': zeros / count if count else 0,
        'nan': nan,
        'inf': inf,
        'histogram': _histogram(finite, nf, bins, mn, mx),
        'logHistogram': log_hist,
    }


def _seq_sum(x):
    """The sequential float64 sum (what a `for` loop gives), not torch.sum's pairwise one."""
    return torch.cumsum(x, 0)[-1].item() if x.numel() else 0.0


def _bin_index(x, bins, lo, hi):
    """Bin of each value: floor((v - lo) * bins / (hi - lo)), the last bin closed (hi > lo)."""
    return torch.floor((x - lo) * (bins / (hi - lo))).clamp_(max=bins - 1).to(torch.int64)


def _summarize_tensor(x, bins, log_bins):
    count = x.numel()
    finite_mask = torch.isfinite(x)
    nf = int(finite_mask.sum().item())
    if nf == count:
        f = x
        nan = inf = 0
    else:
        f = x[finite_mask]
        nan = int(torch.isnan(x).sum().item())
        inf = count - nf - nan
    if nf == 0:
        empty = {'lo': 0, 'hi': 0, 'counts': [0] * bins}
        return {'count': count, 'min': None, 'max': None, 'mean': None, 'std': None, 'norm': None,
                'zeros': 0, 'nan': nan, 'inf': inf, 'histogram': empty, 'logHistogram': {'lo': 0, 'hi': 0, 'counts': [0] * log_bins}}
    mn, mx = (v.item() for v in torch.aminmax(f))
    s, sq = torch.stack((f, f * f)).cumsum(1)[:, -1].tolist()
    mean = s / nf
    d = f - mean
    std = math.sqrt(_seq_sum(d * d) / nf)
    norm = math.sqrt(sq)
    nz_mask = f != 0
    nnz = int(nz_mask.sum().item())
    zeros = nf - nnz
    parts = []
    if mx == mn:
        hist = {'lo': mn - 0.5, 'hi': mx + 0.5, 'counts': None}
    else:
        hist = {'lo': mn, 'hi': mx, 'counts': None}
        parts.append(_bin_index(f, bins, mn, mx))
    log_hist = {'lo': 0, 'hi': 0, 'counts': [0] * log_bins}
    if nnz:
        logs = torch.log10(torch.abs(f[nz_mask] if nnz < nf else f))
        lmin, lmax = (v.item() for v in torch.aminmax(logs))
        llo, lhi = _log_bounds(lmin, lmax)
        log_hist = {'lo': llo, 'hi': lhi, 'counts': None}
        parts.append(_bin_index(logs, log_bins, llo, lhi) + bins)
    counts = torch.bincount(torch.cat(parts), minlength=bins + log_bins).tolist() if parts else [0] * (bins + log_bins)
    if hist['counts'] is None and mx == mn:
        hist['counts'] = [0] * bins
        hist['counts'][bins // 2] = nf
    else:
        hist['counts'] = counts[:bins]
    if log_hist['counts'] is None:
        log_hist['counts'] = counts[bins:bins + log_bins]
    return {
        'count': count, 'min': mn, 'max': mx, 'mean': mean, 'std': std, 'norm': norm,
        'zeros': zeros / count, 'nan': nan, 'inf': inf,
        'histogram': hist, 'logHistogram': log_hist,
    }


def _real_flat(t):
    """Detached, dense, flat, the real part of a complex tensor."""
    x = t.detach()
    if x.is_sparse:
        x = x.to_dense()
    if x.is_complex():
        x = x.real
    return x.reshape(-1)


def as_float64(t):
    """A detached float64 CPU copy, flat (complex: the real part; bool/int: their values)."""
    return _real_flat(t).to(device='cpu', dtype=torch.float64)


def summarize(data, bins=BINS, log_bins=LOG_BINS, method=None):
    """The engine's TensorStats of a tensor or a list of numbers (as float64). `method` forces
    the Python loop ('loop') or the torch one ('torch'); by default small inputs take the loop."""
    if isinstance(data, torch.Tensor):
        x = as_float64(data)
    else:
        x = torch.tensor([float(v) for v in data], dtype=torch.float64)
    if method == 'loop' or (method is None and x.numel() <= _SMALL):
        return _summarize_list(x.tolist(), bins, log_bins)
    return _summarize_tensor(x, bins, log_bins)


def json_number(v):
    """A float as the trace writes it: non-finite values as "NaN", "Infinity", "-Infinity"."""
    if v is None or isinstance(v, (bool, int)):
        return v
    if v != v:
        return 'NaN'
    if v == math.inf:
        return 'Infinity'
    if v == -math.inf:
        return '-Infinity'
    return v


def clean_stats(st):
    """Stats safe for strict JSON (an overflowing norm is +inf in float64)."""
    for k in ('min', 'max', 'mean', 'std', 'norm'):
        v = st[k]
        if v is not None and not math.isfinite(v):
            st[k] = json_number(v)
    for h in (st['histogram'], st['logHistogram']):
        for k in ('lo', 'hi'):
            if not math.isfinite(h[k]):
                h[k] = json_number(h[k])
    return st


def payload(x, stats, max_elements):
    """Flat row-major values of a float64 copy, or None past max_elements; `stats` (its summary,
    or None to check here) says whether there are non-finite values to write as strings."""
    if x.numel() > max_elements:
        return None
    values = x.tolist()
    if stats is None:
        bad = len(values) > 0 and not bool(torch.isfinite(x).all())
    else:
        bad = stats['nan'] or stats['inf']
    if bad:
        values = [v if math.isfinite(v) else json_number(v) for v in values]
    return values


# -- on the tensor's own device, for watch(): the same TensorStats, computed where the tensor lives ----

def fetch(tensors):
    """Python numbers of one-element tensors, in one transfer when they can be stacked (one sync on a GPU)."""
    if not tensors:
        return []
    try:
        return torch.stack(tensors).reshape(-1).tolist()
    except (RuntimeError, TypeError):  # shapes, dtypes or devices that differ
        pass
    dev = tensors[0].device
    if dev.type == 'cpu':
        return [t.item() for t in tensors]
    if all(t.device == dev for t in tensors):
        return torch.stack([t.reshape(()).to(torch.float64) for t in tensors]).tolist()
    return [t.item() for t in tensors]


def _float_view(t):
    x = _real_flat(t)
    if x.dtype in (torch.float32, torch.float64):
        return x
    return x.to(torch.float32 if x.is_floating_point() or x.device.type != 'cpu' else torch.float64)


def _bin_counts(x, bins, lo, hi):
    """Counts of x in `bins` equal bins over [lo, hi] (the engine's edge rule: floor, the last bin
    closed); values below lo land in bin 0."""
    # clamped to [0, bins − 1] first, so truncating to an integer is the floor (int32: cheaper than int64)
    idx = torch.sub(x, lo).mul_(bins / (hi - lo)).clamp_(0, bins - 1).to(torch.int32)
    return torch.bincount(idx, minlength=bins)


def summarize_device(t, bins=BINS, log_bins=LOG_BINS):
    """The engine's TensorStats of `t`, computed on its device in its own precision (sums in
    float64), with a few small transfers: what watch() uses on a training loop's tensors, where
    the exact float64 CPU copy of `summarize` would cost more than the step. The same fields and
    edge rules as `summarize`; values agree to the tensor's precision. A tensor with NaN or Inf
    takes the exact path."""
    x = _float_view(t)
    n = x.numel()
    if n == 0:
        return summarize(x, bins, log_bins)
    mn_t, mx_t = torch.aminmax(x)
    nnz_t = torch.count_nonzero(x)
    s_t = x.sum(dtype=torch.float64)
    mn, mx, nnz, s = fetch([mn_t, mx_t, nnz_t, s_t])
    if not (math.isfinite(mn) and math.isfinite(mx)):
        return clean_stats(summarize(x, bins, log_bins, method='torch'))
    nnz = int(nnz)
    if x.dtype != torch.float64 and max(abs(mn), abs(mx)) > 1e15:
        x = x.to(torch.float64)  # squares past float32's range
    mean = s / n
    d = x - mean
    ss_t = (d * d).sum(dtype=torch.float64)
    small = [ss_t]
    a = None
    if nnz:
        a = x.abs()
        small.append(a.amin() if nnz == n else torch.where(a > 0, a, a.new_tensor(math.inf)).amin())
    got = fetch(small)
    ss = got[0]
    std = math.sqrt(ss / n)
    # Σx² = Σ(x−m)² + 2m·Σ(x−m) + n·m², with Σ(x−m) = s − n·m for the mean m the tensor subtracted
    m32 = float(torch.tensor(mean, dtype=x.dtype).item()) if x.dtype != torch.float64 else mean
    norm = math.sqrt(max(0.0, ss + 2 * m32 * (s - n * m32) + n * m32 * m32))
    if mx == mn:
        counts = [0] * bins
        counts[bins // 2] = n
        hist = {'lo': mn - 0.5, 'hi': mx + 0.5, 'counts': counts}
        lin = None
    else:
        hist = {'lo': mn, 'hi': mx, 'counts': None}
        lin = _bin_counts(x, bins, mn, mx)
    log_hist = {'lo': 0, 'hi': 0, 'counts': [0] * log_bins}
    logc = None
    if nnz:
        amin = got[1]
        amax = max(abs(mn), abs(mx))
        llo, lhi = _log_bounds(math.log10(amin), math.log10(amax))
        log_hist = {'lo': llo, 'hi': lhi, 'counts': None}
        logc = _bin_counts(a.log10_(), log_bins, llo, lhi)  # zeros (log10 = -inf) land in bin 0: taken out below
    parts = [c for c in (lin, logc) if c is not None]
    if parts:
        counts = (torch.cat(parts) if len(parts) > 1 else parts[0]).tolist()
        if lin is not None:
            hist['counts'] = counts[:bins]
            counts = counts[bins:]
        if logc is not None:
            counts[0] -= n - nnz
            log_hist['counts'] = counts
    return {
        'count': n, 'min': mn, 'max': mx, 'mean': mean, 'std': std, 'norm': norm,
        'zeros': (n - nnz) / n, 'nan': 0, 'inf': 0,
        'histogram': hist, 'logHistogram': log_hist,
    }
