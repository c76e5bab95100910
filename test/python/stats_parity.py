"""backprop_lens.stats.summarize on the test's data sets (stdin: JSON {datasets: [[...]], bins: [[bins, logBins]]},
non-finite numbers as "NaN"/"Infinity"/"-Infinity"); prints the summaries as JSON, one list per bins pair.
Each data set is summarized by both code paths: the Python loop and the torch one."""
import json
import sys

import torch

from backprop_lens.stats import clean_stats, summarize

SPECIAL = {'NaN': float('nan'), 'Infinity': float('inf'), '-Infinity': float('-inf')}

req = json.load(sys.stdin)
data = [[SPECIAL.get(v, v) if isinstance(v, str) else float(v) for v in d] for d in req['datasets']]
out = []
for bins, log_bins in req['bins']:
    out.append([
        {'loop': clean_stats(summarize(d, bins, log_bins, method='loop')),
         'torch': clean_stats(summarize(torch.tensor(d, dtype=torch.float64), bins, log_bins, method='torch'))}
        for d in data])
json.dump(out, sys.stdout, allow_nan=False)
