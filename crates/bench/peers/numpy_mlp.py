"""The benchmark workload in hand-written NumPy (forward, backward, Adam).

Install: pip install numpy
"""

import numpy as np

import workload as w


def init(rng, widths):
    """PyTorch's nn.Linear default: U(-1/sqrt(in), 1/sqrt(in)) for W and b."""
    params = []
    for fan_in, fan_out in zip(widths[:-1], widths[1:]):
        bound = 1.0 / np.sqrt(fan_in)
        weight = rng.uniform(-bound, bound, (fan_out, fan_in)).astype(np.float32)
        bias = rng.uniform(-bound, bound, fan_out).astype(np.float32)
        params += [weight, bias]
    return params


def forward(params, x):
    """The logits, and every layer's input (for the backward pass)."""
    inputs = [x]
    a = x
    for i in range(0, len(params), 2):
        z = a @ params[i].T
        z += params[i + 1]
        if i + 2 < len(params):
            np.maximum(z, 0.0, out=z)
            inputs.append(z)
        a = z
    return a, inputs


def loss_and_gradient(logits, labels):
    """Mean softmax cross-entropy and its gradient with respect to the logits."""
    shifted = logits - logits.max(axis=1, keepdims=True)
    exp = np.exp(shifted)
    total = exp.sum(axis=1, keepdims=True)
    rows = np.arange(len(labels))
    loss = float(np.mean(np.log(total[:, 0]) - shifted[rows, labels]))
    grad = exp / total
    grad[rows, labels] -= 1.0
    grad /= len(labels)
    return loss, grad


def backward(params, inputs, grad):
    grads = [None] * len(params)
    for layer in reversed(range(len(params) // 2)):
        a = inputs[layer]
        grads[2 * layer] = grad.T @ a
        grads[2 * layer + 1] = grad.sum(axis=0)
        if layer > 0:
            grad = grad @ params[2 * layer]
            grad *= a > 0
    return grads


class Adam:
    def __init__(self, params, lr, beta1=0.9, beta2=0.999, eps=1e-8):
        self.lr, self.beta1, self.beta2, self.eps = lr, beta1, beta2, eps
        self.m = [np.zeros_like(p) for p in params]
        self.v = [np.zeros_like(p) for p in params]
        self.t = 0

    def step(self, params, grads):
        self.t += 1
        c1 = 1.0 - self.beta1**self.t
        c2 = 1.0 - self.beta2**self.t
        for p, g, m, v in zip(params, grads, self.m, self.v):
            m *= self.beta1
            m += (1.0 - self.beta1) * g
            v *= self.beta2
            v += (1.0 - self.beta2) * (g * g)
            denominator = np.sqrt(v / c2)
            denominator += self.eps
            p -= (self.lr / c1) * m / denominator


def main():
    args = w.arguments("NumPy peer")
    train_x, train_y, test_x, test_y = w.load(args.data)
    rng = np.random.default_rng(args.seed)
    params = init(rng, args.widths)
    adam = Adam(params, w.LEARNING_RATE)

    def step(batch):
        logits, inputs = forward(params, train_x[batch])
        loss, grad = loss_and_gradient(logits, train_y[batch])
        adam.step(params, backward(params, inputs, grad))
        return loss

    for batch in w.permutation(args.seed + 1, len(train_x))[: w.WARMUP_STEPS]:
        step(batch)
    batches = w.permutation(args.seed, len(train_x))
    epoch_s, losses = w.timed(lambda: [step(batch) for batch in batches])

    times = []
    for _ in range(w.INFERENCE_REPEATS):
        seconds, (logits, _) = w.timed(lambda: forward(params, test_x))
        times.append(seconds)
    accuracy = float(np.mean(logits.argmax(axis=1) == test_y))
    w.result("numpy", np.__version__, epoch_s, w.median(times), float(np.mean(losses)), accuracy)


if __name__ == "__main__":
    main()
