"""The benchmark workload in PyTorch (eager mode, CPU, torch.optim.Adam).

Install: pip install torch
"""

import numpy as np
import torch
from torch import nn

import workload as w


def main():
    args = w.arguments("PyTorch peer")
    torch.set_num_threads(2)
    torch.manual_seed(args.seed)
    train_x, train_y, test_x, test_y = (torch.from_numpy(a) for a in w.load(args.data))
    layers = []
    for fan_in, fan_out in zip(args.widths[:-1], args.widths[1:]):
        layers += [nn.Linear(fan_in, fan_out), nn.ReLU()]
    model = nn.Sequential(*layers[:-1])
    optimizer = torch.optim.Adam(model.parameters(), lr=w.LEARNING_RATE)
    loss_function = nn.CrossEntropyLoss()

    def step(batch):
        index = torch.from_numpy(batch)
        optimizer.zero_grad(set_to_none=True)
        loss = loss_function(model(train_x[index]), train_y[index])
        loss.backward()
        optimizer.step()
        return loss.item()

    for batch in w.permutation(args.seed + 1, len(train_x))[: w.WARMUP_STEPS]:
        step(batch)
    batches = w.permutation(args.seed, len(train_x))
    epoch_s, losses = w.timed(lambda: [step(batch) for batch in batches])

    times = []
    with torch.inference_mode():
        for _ in range(w.INFERENCE_REPEATS):
            seconds, logits = w.timed(lambda: model(test_x))
            times.append(seconds)
    accuracy = float((logits.argmax(dim=1) == test_y).float().mean())
    w.result("PyTorch", torch.__version__, epoch_s, w.median(times), float(np.mean(losses)), accuracy)


if __name__ == "__main__":
    main()
