"""The benchmark workload in JAX + optax, compiled by XLA.

The whole epoch is one jitted `lax.scan` over the shuffled batches (the data
stays on the device and each batch is gathered inside the compiled step), so
Python adds no per-step overhead. Compiling it ahead of time is the warm-up.

Install: pip install jax optax
"""

import jax
import jax.numpy as jnp
import numpy as np
import optax

import workload as w


def init(key, widths):
    """PyTorch's nn.Linear default: U(-1/sqrt(in), 1/sqrt(in)) for W and b."""
    params = []
    for fan_in, fan_out in zip(widths[:-1], widths[1:]):
        key, kw, kb = jax.random.split(key, 3)
        bound = 1.0 / np.sqrt(fan_in)
        params.append(
            (
                jax.random.uniform(kw, (fan_out, fan_in), jnp.float32, -bound, bound),
                jax.random.uniform(kb, (fan_out,), jnp.float32, -bound, bound),
            )
        )
    return params


def forward(params, x):
    for weight, bias in params[:-1]:
        x = jax.nn.relu(x @ weight.T + bias)
    weight, bias = params[-1]
    return x @ weight.T + bias


def loss(params, x, y):
    return optax.softmax_cross_entropy_with_integer_labels(forward(params, x), y).mean()


optimizer = optax.adam(w.LEARNING_RATE)


def train_epoch(params, state, train_x, train_y, batches):
    def step(carry, batch):
        params, state = carry
        value, grads = jax.value_and_grad(loss)(params, train_x[batch], train_y[batch])
        updates, state = optimizer.update(grads, state, params)
        return (optax.apply_updates(params, updates), state), value

    (params, state), losses = jax.lax.scan(step, (params, state), batches)
    return params, state, losses


def main():
    args = w.arguments("JAX peer")
    train_x, train_y, test_x, test_y = w.load(args.data)
    train_x, test_x = jnp.asarray(train_x), jnp.asarray(test_x)
    train_y = jnp.asarray(train_y, dtype=jnp.int32)
    params = init(jax.random.key(args.seed), args.widths)
    state = optimizer.init(params)
    batches = jnp.asarray(w.permutation(args.seed, len(train_x)), dtype=jnp.int32)
    warmup = jnp.asarray(w.permutation(args.seed + 1, len(train_x))[: w.WARMUP_STEPS], dtype=jnp.int32)

    epoch = jax.jit(train_epoch).lower(params, state, train_x, train_y, batches).compile()
    short = jax.jit(train_epoch).lower(params, state, train_x, train_y, warmup).compile()
    params, state, _ = jax.block_until_ready(short(params, state, train_x, train_y, warmup))
    epoch_s, (params, state, losses) = w.timed(
        lambda: jax.block_until_ready(epoch(params, state, train_x, train_y, batches))
    )

    infer = jax.jit(forward).lower(params, test_x).compile()
    jax.block_until_ready(infer(params, test_x))
    times = []
    for _ in range(w.INFERENCE_REPEATS):
        seconds, logits = w.timed(lambda: jax.block_until_ready(infer(params, test_x)))
        times.append(seconds)
    accuracy = float(jnp.mean(jnp.argmax(logits, axis=1) == jnp.asarray(test_y)))
    w.result("JAX", jax.__version__, epoch_s, w.median(times), float(jnp.mean(losses)), accuracy)


if __name__ == "__main__":
    main()
