//! The fast path's trainer: buffers, products, the fused forward and
//! backward passes, and Adam (see the crate docs).

use course_support::batches::BatchLoader;
use course_support::shape::ShapeError;
use nalgebra::{DMatrix, DMatrixView, Dyn};
use rand_chacha::ChaCha8Rng;
use std::ops::Range;

use course_support::activation::Activation;
use course_support::network::{Layer, Linear, Mlp};
use course_support::optim::Adam;
use course_support::stats::EpochStats;

mod adam;
mod constant_inputs;
mod dropout;
mod elementwise;
mod partner;
mod products;
use adam::{AdamSettings, adam_update};
use constant_inputs::{ConstantInputs, Core};
use elementwise::{
    add_bias, add_bias_activate_and_drop, add_bias_and_activate, column_sums,
    softmax_cross_entropy, times_derivative, times_mask_and_derivative,
};
use partner::{Partner, with_partner};
use products::multiply;
pub use products::{PROCESSOR_KINDS, faer_kernels, processor_kind};

/// A matrix view with any strides: a column-major matrix, a transposed one,
/// or a batch stored one example after another.
pub type Input<'a> = DMatrixView<'a, f32, Dyn, Dyn>;

/// `matrix` as an [`Input`].
pub fn input(matrix: &DMatrix<f32>) -> Input<'_> {
    matrix.view_with_steps((0, 0), matrix.shape(), (0, 0))
}

/// Below this many multiply-adds a layer runs on one core: handing half of
/// it to the other core (about a microsecond) would cost more than it
/// saves. A 10-unit last layer at batch 128 (330k) is still split.
const PARALLEL_WORK: usize = 1 << 18;

/// A network the fast path cannot run, and why.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("the fast path does not support {0}; use reference::train::train_step")]
pub struct Unsupported(String);

/// One linear layer of the network and the activation after it.
#[derive(Clone, Copy, Debug)]
struct Plan {
    /// The position of the linear layer in `Mlp::layers`.
    index: usize,
    inputs: usize,
    outputs: usize,
    activation: Activation,
}

/// A (rows, columns) column-major matrix kept in a buffer that only grows:
/// a smaller batch reuses the front of it.
#[derive(Clone, Debug, Default)]
struct Buffer {
    data: Vec<f32>,
    columns: usize,
}

impl Buffer {
    fn new(rows: usize, columns: usize) -> Self {
        Self {
            data: vec![0.0; rows * columns],
            columns,
        }
    }

    fn reserve(&mut self, rows: usize) {
        let needed = rows * self.columns;
        if self.data.len() < needed {
            self.data.resize(needed, 0.0);
        }
    }

    fn view(&self, rows: usize) -> Input<'_> {
        let data = &self.data[..rows * self.columns];
        DMatrixView::from_slice_with_strides(data, rows, self.columns, 1, rows)
    }

    fn slice(&self, rows: usize) -> &[f32] {
        &self.data[..rows * self.columns]
    }

    fn slice_mut(&mut self, rows: usize) -> &mut [f32] {
        &mut self.data[..rows * self.columns]
    }
}

/// The fast training step and forward pass, with every buffer they need.
///
/// Build one per network shape; it keeps the activations and gradients of
/// the last batch between calls, and only allocates when a batch is larger
/// than any before it.
#[derive(Clone, Debug)]
pub struct Trainer {
    plans: Vec<Plan>,
    rows: usize,
    /// Z of each linear layer, (batch, outputs): for the last layer, the
    /// logits. (In a step with dropout, a hidden layer without an
    /// activation holds its output here, Z ⊙ M.)
    pre_activation: Vec<Buffer>,
    /// f(Z) of each linear layer whose activation is not the identity.
    post_activation: Vec<Buffer>,
    /// dL/dZ of each linear layer, (batch, outputs); also holds dL/dA on its
    /// way to becoming dL/dZ.
    grad_pre_activation: Vec<Buffer>,
    grad_weights: Vec<Vec<f32>>,
    grad_bias: Vec<Vec<f32>>,
    /// The first layer's input columns that are constant over the batch.
    constant_inputs: ConstantInputs,
    /// Dropout's rate p in training, in [0, 1); 0 for none.
    dropout: f32,
    /// Dropout's mask of each hidden layer for the last step, (batch,
    /// outputs): empty for the last layer, and for all when `dropout` is 0.
    masks: Vec<Buffer>,
    /// Whether the last forward pass applied the masks (a training step
    /// with dropout), so that the backward pass applies them too.
    dropping: bool,
}

impl Trainer {
    /// Buffers for `mlp` at batches of up to `batch` rows; fails for layers
    /// the fast path does not run.
    pub fn new(mlp: &Mlp, batch: usize) -> Result<Self, Unsupported> {
        let mut plans: Vec<Plan> = Vec::new();
        for (index, layer) in mlp.layers.iter().enumerate() {
            match layer {
                Layer::Linear(linear) => plans.push(Plan {
                    index,
                    inputs: linear.in_features(),
                    outputs: linear.out_features(),
                    activation: Activation::Identity,
                }),
                Layer::Activation(activation) => match plans.last_mut() {
                    Some(plan) if plan.index + 1 == index => plan.activation = *activation,
                    _ => {
                        return Err(Unsupported(format!(
                            "layer {index} ({activation}): an activation that does not directly follow a linear layer"
                        )));
                    }
                },
                Layer::Maxout(_) => {
                    return Err(Unsupported(format!("layer {index}: a maxout layer")));
                }
            }
        }
        if plans.is_empty() {
            return Err(Unsupported("a network without linear layers".into()));
        }
        let per_layer = |f: &dyn Fn(&Plan) -> Buffer| plans.iter().map(f).collect::<Vec<_>>();
        Ok(Self {
            rows: 0,
            pre_activation: per_layer(&|p| Buffer::new(batch, p.outputs)),
            post_activation: per_layer(&|p| match p.activation {
                Activation::Identity => Buffer::default(),
                _ => Buffer::new(batch, p.outputs),
            }),
            grad_pre_activation: per_layer(&|p| Buffer::new(batch, p.outputs)),
            grad_weights: plans
                .iter()
                .map(|p| vec![0.0; p.outputs * p.inputs])
                .collect(),
            grad_bias: plans.iter().map(|p| vec![0.0; p.outputs]).collect(),
            constant_inputs: ConstantInputs::new(batch, plans[0].inputs, plans[0].outputs),
            dropout: 0.0,
            masks: vec![Buffer::default(); plans.len()],
            dropping: false,
            plans,
        })
    }

    /// The same trainer with inverted dropout at rate p = `rate` after each
    /// hidden layer in training (see [`Trainer::set_dropout`]).
    pub fn with_dropout(mut self, rate: f32) -> Result<Self, Unsupported> {
        self.set_dropout(rate)?;
        Ok(self)
    }

    /// Sets dropout's rate p in training: after each hidden layer (every
    /// linear layer but the last), after its activation if it has one, each
    /// unit of each example is zeroed with probability p and the others are
    /// scaled by 1/(1 − p), as stage 7's `dropout_mask` draws them (see the
    /// crate docs). 0 (the default) is no dropout; a rate outside [0, 1),
    /// or NaN, is an error and changes nothing. Above 0, training steps need
    /// a generator to draw the masks ([`Trainer::step_with`]);
    /// [`Trainer::forward`] (evaluation) never drops.
    pub fn set_dropout(&mut self, rate: f32) -> Result<(), Unsupported> {
        self.dropout = dropout::check_rate(rate)?;
        if self.dropout > 0.0 {
            let last = self.plans.len() - 1;
            for (layer, plan) in self.plans.iter().enumerate().take(last) {
                // As many rows as the layer's other buffers have room for.
                let rows = self.pre_activation[layer].data.len() / plan.outputs.max(1);
                self.masks[layer] = Buffer::new(rows, plan.outputs);
            }
        }
        Ok(())
    }

    /// Dropout's rate in training (0 for none).
    pub fn dropout(&self) -> f32 {
        self.dropout
    }

    /// Dropout's mask of hidden layer `layer` (counting linear layers) from
    /// the last training step with dropout: (batch, units) values, column
    /// after column, each 0 or 1/(1 − p). None for the last layer, or when
    /// the last step or forward pass did not drop.
    pub fn dropout_mask(&self, layer: usize) -> Option<&[f32]> {
        let last = self.plans.len() - 1;
        (self.dropping && layer < last).then(|| self.masks[layer].slice(self.rows))
    }

    /// Whether the first layer's products leave out the input columns that
    /// hold one value in every example of a batch (on by default; see
    /// `constant_inputs.rs`). Off, every product runs in full; the results
    /// differ only by rounding.
    pub fn skip_constant_inputs(&mut self, skip: bool) {
        self.constant_inputs.enabled = skip;
    }

    /// How many input columns of the last batch the first layer's products
    /// left out (0 when none were).
    pub fn skipped_inputs(&self) -> usize {
        self.constant_inputs.skipped()
    }

    /// The network's output for the last batch: (batch, outputs).
    pub fn output(&self) -> Input<'_> {
        let last = self.plans.len() - 1;
        layer_output(
            &self.plans[last],
            &self.pre_activation[last],
            &self.post_activation[last],
            self.rows,
        )
    }

    /// The forward pass over `input` (batch, in): the same values as
    /// `Mlp::forward`, kept here and returned as a view.
    pub fn forward(&mut self, mlp: &Mlp, input: Input<'_>) -> Result<Input<'_>, ShapeError> {
        self.check_network(mlp)?;
        self.check_input(input)?;
        self.reserve(input.nrows(), false);
        self.dropping = false;
        with_partner(|partner| self.forward_layers(partner, mlp, input));
        Ok(self.output())
    }

    /// One step of Adam on softmax cross-entropy: the same update as
    /// `train_step(mlp, adam, input, &Targets::Classes(labels), Loss::CrossEntropy)`.
    /// Returns the batch's mean loss before the update; [`Trainer::output`]
    /// then holds the logits it was computed from.
    ///
    /// Every input is checked before anything changes: on an error the
    /// network and the optimiser are as they were. With dropout (a rate
    /// above 0) it is an error: use [`Trainer::step_with`] and a generator.
    pub fn step(
        &mut self,
        mlp: &mut Mlp,
        adam: &mut Adam,
        input: Input<'_>,
        labels: &[usize],
    ) -> Result<f32, ShapeError> {
        self.step_with(mlp, adam, input, labels, None)
    }

    /// [`Trainer::step`] with dropout's masks drawn from `rng` when the
    /// rate is above 0: one `rng.random::<f32>()` per hidden unit of each
    /// example, first hidden layer first (as stage 7's `dropout_mask` for
    /// each hidden layer in turn). Without dropout `rng` is not used (and
    /// may be None); with dropout, None is an error.
    ///
    /// Every input is checked before anything changes: on an error the
    /// network, the optimiser and `rng` are as they were.
    pub fn step_with(
        &mut self,
        mlp: &mut Mlp,
        adam: &mut Adam,
        input: Input<'_>,
        labels: &[usize],
        rng: Option<&mut ChaCha8Rng>,
    ) -> Result<f32, ShapeError> {
        self.check_batch(mlp, input, labels)?;
        self.check_moments(adam)?;
        let rng = self.check_rng(rng)?;
        if adam.first_moment.is_empty() {
            adam.first_moment = self
                .grad_weights
                .iter()
                .zip(&self.grad_bias)
                .flat_map(|(w, b)| [vec![0.0; w.len()], vec![0.0; b.len()]])
                .collect();
            adam.second_moment = adam.first_moment.clone();
        }
        self.reserve(input.nrows(), true);
        self.draw_masks(rng);
        adam.steps += 1;
        let settings = AdamSettings::new(adam);
        let moments = Moments {
            first: &mut adam.first_moment,
            second: &mut adam.second_moment,
        };
        Ok(with_partner(|partner| {
            let loss = self.forward_and_loss(partner, mlp, input, labels);
            self.backward(partner, Network::Update(mlp, moments, &settings), input);
            loss
        }))
    }

    /// The forward pass, the loss, and dL/dZ of the last layer. The loss is
    /// on the network's output, after the last layer's activation if it has
    /// one; dL/dZ then goes through f′.
    fn forward_and_loss(
        &mut self,
        partner: &Partner,
        mlp: &Mlp,
        input: Input<'_>,
        labels: &[usize],
    ) -> f32 {
        self.forward_layers(partner, mlp, input);
        let last = self.plans.len() - 1;
        let plan = &self.plans[last];
        let (pre, post) = (&self.pre_activation[last], &self.post_activation[last]);
        let logits = layer_output(plan, pre, post, self.rows);
        let grad = self.grad_pre_activation[last].slice_mut(self.rows);
        let loss = softmax_cross_entropy(logits, labels, grad);
        if plan.activation != Activation::Identity {
            times_derivative(grad, pre.slice(self.rows), plan.activation);
        }
        loss
    }

    /// The generator for dropout's masks: None without dropout; an error
    /// when dropout needs one and there is none.
    fn check_rng<'r>(
        &self,
        rng: Option<&'r mut ChaCha8Rng>,
    ) -> Result<Option<&'r mut ChaCha8Rng>, ShapeError> {
        match (self.dropout > 0.0, rng) {
            (false, _) => Ok(None),
            (true, Some(rng)) => Ok(Some(rng)),
            (true, None) => Err(ShapeError::value(
                "fast step dropout masks",
                format!(
                    "a ChaCha8Rng to draw them from (the dropout rate is {}; use step_with or train_epoch_with)",
                    self.dropout
                ),
                "none",
            )),
        }
    }

    /// Draws this step's masks (when `rng` is Some: dropout is on), and
    /// notes whether the passes apply them.
    fn draw_masks(&mut self, rng: Option<&mut ChaCha8Rng>) {
        self.dropping = rng.is_some();
        if let Some(rng) = rng {
            let last = self.plans.len() - 1;
            for mask in &mut self.masks[..last] {
                dropout::draw_mask(mask.slice_mut(self.rows), self.dropout, rng);
            }
        }
    }

    /// Checks a batch against the network and the trainer before anything changes.
    fn check_batch(&self, mlp: &Mlp, input: Input<'_>, labels: &[usize]) -> Result<(), ShapeError> {
        self.check_network(mlp)?;
        self.check_input(input)?;
        if input.nrows() == 0 {
            return Err(ShapeError::value(
                "fast step batch",
                "at least one row (the loss is a mean over rows)",
                "0 rows",
            ));
        }
        if labels.len() != input.nrows() {
            return Err(ShapeError::count(
                "fast step labels (one per row)",
                input.nrows(),
                labels.len(),
            ));
        }
        let classes = self.plans[self.plans.len() - 1].outputs;
        if let Some((row, &class)) = labels.iter().enumerate().find(|(_, c)| **c >= classes) {
            return Err(ShapeError::below(
                format!("class target of row {row}"),
                classes,
                class,
            ));
        }
        Ok(())
    }

    /// Room for `rows` rows in the per-batch buffers of the forward pass, and
    /// of the backward pass too when `gradients`.
    fn reserve(&mut self, rows: usize, gradients: bool) {
        self.rows = rows;
        let backward: &mut [Buffer] = match gradients {
            true => &mut self.grad_pre_activation,
            false => &mut [],
        };
        let masks: &mut [Buffer] = match gradients && self.dropout > 0.0 {
            true => &mut self.masks,
            false => &mut [],
        };
        for buffer in self
            .pre_activation
            .iter_mut()
            .chain(&mut self.post_activation)
            .chain(backward)
            .chain(masks)
        {
            buffer.reserve(rows);
        }
    }

    /// The loss and every gradient for one batch, without changing the
    /// network: what `step` computes before its updates (for checking the
    /// gradients and for timing the backward pass on its own). The
    /// gradients are then in [`Trainer::weight_gradient`] and
    /// [`Trainer::bias_gradient`]. With dropout it is an error: use
    /// [`Trainer::gradients_with`].
    pub fn gradients(
        &mut self,
        mlp: &Mlp,
        input: Input<'_>,
        labels: &[usize],
    ) -> Result<f32, ShapeError> {
        self.gradients_with(mlp, input, labels, None)
    }

    /// [`Trainer::gradients`] with dropout's masks drawn from `rng`, as
    /// [`Trainer::step_with`] draws them: the loss and gradients of the
    /// network with those units dropped.
    pub fn gradients_with(
        &mut self,
        mlp: &Mlp,
        input: Input<'_>,
        labels: &[usize],
        rng: Option<&mut ChaCha8Rng>,
    ) -> Result<f32, ShapeError> {
        self.check_batch(mlp, input, labels)?;
        let rng = self.check_rng(rng)?;
        self.reserve(input.nrows(), true);
        self.draw_masks(rng);
        Ok(with_partner(|partner| {
            let loss = self.forward_and_loss(partner, mlp, input, labels);
            self.backward(partner, Network::Read(mlp), input);
            loss
        }))
    }

    /// dL/dW of linear layer `layer` (counting linear layers only) from the
    /// last `gradients`: (out, in) values in nalgebra's column order, like
    /// `Parameter::values`. (`step` uses the first layer's dW column by
    /// column without keeping it when it skips constant inputs.)
    pub fn weight_gradient(&self, layer: usize) -> Option<&[f32]> {
        self.grad_weights.get(layer).map(Vec::as_slice)
    }

    /// dL/db of linear layer `layer`, from the last `step` or `gradients`.
    pub fn bias_gradient(&self, layer: usize) -> Option<&[f32]> {
        self.grad_bias.get(layer).map(Vec::as_slice)
    }

    // ANCHOR: forward_layers
    /// Z = A Wᵀ + b and f(Z), layer by layer. Each layer's output units are
    /// split in two, one half per core: a half is a contiguous block of
    /// columns of Z (column-major), so each core also adds the bias and
    /// applies the activation to its own half, while it is in its cache
    /// (and, in a step with dropout, multiplies a hidden layer's output by
    /// its mask).
    fn forward_layers(&mut self, partner: &Partner, mlp: &Mlp, input: Input<'_>) {
        let rows = self.rows;
        let skipping = self.constant_inputs.find(input);
        let last = self.plans.len() - 1;
        for (layer, plan) in self.plans.iter().enumerate() {
            let linear = linear_layer(mlp, plan);
            let (pre_done, pre_rest) = self.pre_activation.split_at_mut(layer);
            let (post_done, post_rest) = self.post_activation.split_at_mut(layer);
            let a = match layer {
                0 => input,
                _ => layer_output(
                    &self.plans[layer - 1],
                    &pre_done[layer - 1],
                    &post_done[layer - 1],
                    rows,
                ),
            };
            let split = split_point(plan.outputs);
            let (z0, z1) = pre_rest[0].slice_mut(rows).split_at_mut(split * rows);
            let out = post_rest[0].slice_mut(rows);
            let (out0, out1) = out.split_at_mut(if out.is_empty() { 0 } else { split * rows });
            let (b0, b1) = linear.bias.as_slice().split_at(split);
            let (mask0, mask1) = match self.dropping && layer < last {
                true => {
                    let (m0, m1) = self.masks[layer].slice(rows).split_at(split * rows);
                    (Some(m0), Some(m1))
                }
                false => (None, None),
            };
            let weights = &linear.weights;
            // The first layer without its constant input columns, or not.
            let (skip, [core0, core1]) = match (layer, skipping) {
                (0, true) => {
                    let (columns, _, [core0, core1]) = self.constant_inputs.parts(rows);
                    (Some(columns), [Some(core0), Some(core1)])
                }
                _ => (None, [None, None]),
            };
            let half = |units: Range<usize>,
                        (z, out): (&mut [f32], &mut [f32]),
                        bias: &[f32],
                        mask: Option<&[f32]>,
                        core: Option<&mut Core>| {
                let finish = (plan.activation, mask);
                if let (Some(columns), Some(core)) = (skip, core) {
                    let constant = columns.constant;
                    let (w, bias) = core.fold_constant_columns(weights, bias, units, constant);
                    return forward_units(columns.varying(), w, bias, (z, out), finish);
                }
                let w =
                    weights.view_with_steps((units.start, 0), (units.len(), plan.inputs), (0, 0));
                forward_units(a, w, bias, (z, out), finish)
            };
            both(
                partner,
                rows * plan.inputs * plan.outputs,
                || half(0..split, (z0, out0), b0, mask0, core0),
                || half(split..plan.outputs, (z1, out1), b1, mask1, core1),
            );
        }
    }
    // ANCHOR_END: forward_layers

    /// Backward through every layer, last to first, updating each layer's
    /// parameters as soon as its gradients are known (when `network` says
    /// so). Each layer's input features are split in two, one half per core:
    /// a half is a contiguous block of columns of W, dW, Adam's moments, dA,
    /// Z and A, so each core computes dA = dZ W and dZ = dA ⊙ f′(Z) for its
    /// columns, then dW = dZᵀ A, then Adam on those columns of W, with no
    /// other core writing there. W is read for dA before Adam changes it, as
    /// in the teaching code. Each core also sums half of dZ's columns into
    /// db (half the output units) and updates those biases.
    fn backward(&mut self, partner: &Partner, mut network: Network<'_>, input: Input<'_>) {
        let rows = self.rows;
        for (layer, plan) in self.plans.iter().enumerate().rev() {
            let (grad_before, grad_rest) = self.grad_pre_activation.split_at_mut(layer);
            let grad_z = grad_rest[0].view(rows);
            let (weights, bias, settings) = match &mut network {
                Network::Read(mlp) => {
                    let linear = linear_layer(mlp, plan);
                    (
                        Weights::Read(linear.weights.as_slice()),
                        Weights::Read(linear.bias.as_slice()),
                        None,
                    )
                }
                Network::Update(mlp, moments, settings) => {
                    let Layer::Linear(linear) = &mut mlp.layers[plan.index] else {
                        unreachable!("the plan points at a linear layer (check_network)")
                    };
                    let ((m, v), (m_bias, v_bias)) = moments.take_last_layer();
                    (
                        Weights::Update(linear.weights.as_mut_slice(), m, v),
                        Weights::Update(linear.bias.as_mut_slice(), m_bias, v_bias),
                        Some(&**settings),
                    )
                }
            };
            // The bias is split by output units: db sums columns of dZ.
            let units = split_point(plan.outputs);
            let (bias0, bias1) = bias.split_at(units);
            let (gb0, gb1) = self.grad_bias[layer].split_at_mut(units);
            let (gz0, gz1) = grad_rest[0].slice(rows).split_at(units * rows);
            if layer == 0 && self.constant_inputs.active() {
                // The first layer without its constant input columns: each
                // core takes half of the varying ones.
                let (columns, grad_varying, [core0, core1]) = self.constant_inputs.parts(rows);
                let (split, halves) = columns.split_in_half();
                let (w0, w1) = weights.split_at(split * plan.outputs);
                let (gw0, gw1) = self.grad_weights[0].split_at_mut(split * plan.outputs);
                let before = halves[0].varying_count();
                let (gv0, gv1) = grad_varying.split_at_mut(before * plan.outputs);
                let grad_z = (grad_z, grad_rest[0].slice(rows));
                both(
                    partner,
                    2 * rows * plan.inputs * plan.outputs,
                    || {
                        backward_bias(gz0, rows, gb0, bias0, settings);
                        core0.backward(grad_z, halves[0], w0, gw0, gv0, settings)
                    },
                    || {
                        backward_bias(gz1, rows, gb1, bias1, settings);
                        core1.backward(grad_z, halves[1], w1, gw1, gv1, settings)
                    },
                );
                continue;
            }
            let (a, previous) = match layer {
                0 => (input, None),
                _ => {
                    let before = &self.plans[layer - 1];
                    let a = layer_output(
                        before,
                        &self.pre_activation[layer - 1],
                        &self.post_activation[layer - 1],
                        rows,
                    );
                    let z = self.pre_activation[layer - 1].slice(rows);
                    // The input gradient of the first layer is not needed to train.
                    let grad_a = grad_before[layer - 1].slice_mut(rows);
                    let mask = self.dropping.then(|| self.masks[layer - 1].slice(rows));
                    (a, Some((grad_a, z, before.activation, mask)))
                }
            };
            let out = plan.outputs;
            let split = split_point(plan.inputs);
            let (w0, w1) = weights.split_at(split * out);
            let (gw0, gw1) = self.grad_weights[layer].split_at_mut(split * out);
            let (previous0, previous1) = match previous {
                None => (None, None),
                Some((grad_a, z, activation, mask)) => {
                    let (ga0, ga1) = grad_a.split_at_mut(split * rows);
                    let (z0, z1) = z.split_at(split * rows);
                    let (m0, m1) = match mask {
                        Some(mask) => {
                            let (m0, m1) = mask.split_at(split * rows);
                            (Some(m0), Some(m1))
                        }
                        None => (None, None),
                    };
                    (
                        Some((ga0, z0, activation, m0)),
                        Some((ga1, z1, activation, m1)),
                    )
                }
            };
            let half = |columns: Range<usize>,
                        w: Weights<'_>,
                        gw: &mut [f32],
                        previous: Previous<'_>,
                        (gz, gb, b): (&[f32], &mut [f32], Weights<'_>)| {
                backward_bias(gz, rows, gb, b, settings);
                let a = a.columns(columns.start, columns.len());
                backward_features(grad_z, a, w, gw, previous, settings)
            };
            both(
                partner,
                2 * rows * plan.inputs * plan.outputs,
                || half(0..split, w0, gw0, previous0, (gz0, gb0, bias0)),
                || half(split..plan.inputs, w1, gw1, previous1, (gz1, gb1, bias1)),
            );
        }
    }

    fn check_input(&self, input: Input<'_>) -> Result<(), ShapeError> {
        ShapeError::check(
            "fast path input",
            (input.nrows(), self.plans[0].inputs),
            input.shape(),
        )
    }

    /// Adam's moments must be empty (a first step) or match the network.
    fn check_moments(&self, adam: &Adam) -> Result<(), ShapeError> {
        if adam.first_moment.is_empty() && adam.second_moment.is_empty() {
            return Ok(());
        }
        let expected = self
            .grad_weights
            .iter()
            .zip(&self.grad_bias)
            .flat_map(|(w, b)| [w.len(), b.len()]);
        let lengths = |moments: &[Vec<f32>]| moments.iter().map(Vec::len).collect::<Vec<_>>();
        for (name, moments) in [
            ("first", &adam.first_moment),
            ("second", &adam.second_moment),
        ] {
            // Compared without collecting: this runs every step.
            if !moments.iter().map(Vec::len).eq(expected.clone()) {
                return Err(ShapeError::value(
                    format!("Adam's {name} moments"),
                    format!(
                        "tensors of {:?} values",
                        expected.clone().collect::<Vec<_>>()
                    ),
                    format!("{:?}", lengths(moments)),
                ));
            }
        }
        Ok(())
    }

    /// The network must be the one this trainer was built for.
    fn check_network(&self, mlp: &Mlp) -> Result<(), ShapeError> {
        for plan in &self.plans {
            let found = match mlp.layers.get(plan.index) {
                Some(Layer::Linear(linear)) => (linear.out_features(), linear.in_features()),
                _ => (0, 0),
            };
            if found != (plan.outputs, plan.inputs) {
                return Err(ShapeError::new(
                    format!(
                        "fast path: weights of layer {} (as when the trainer was built)",
                        plan.index
                    ),
                    (Some(plan.outputs), Some(plan.inputs)),
                    found,
                ));
            }
        }
        Ok(())
    }
}

/// Why [`train_epoch`] stopped before the end of the epoch.
#[derive(Clone, Debug, PartialEq, thiserror::Error)]
pub enum EpochError {
    #[error(transparent)]
    Shape(#[from] ShapeError),
    /// The loss of a batch was NaN or infinite: the network is broken from
    /// there on, so the epoch stops at that step instead of training on.
    #[error("the loss of step {step} (1-based) of the epoch is {loss}, not a finite number")]
    NonFiniteLoss {
        /// The 1-based batch of the epoch.
        step: usize,
        /// That batch's loss.
        loss: f32,
    },
}

/// Stage 5's `train_epoch` on the fast path: one epoch of Adam steps over
/// the loader's batches, with the same running figures and `on_batch`
/// callback. Stops with [`EpochError::NonFiniteLoss`] at the first batch
/// whose loss is not finite, before calling `on_batch` for it. With
/// dropout it is an error: use [`train_epoch_with`].
pub fn train_epoch(
    trainer: &mut Trainer,
    mlp: &mut Mlp,
    adam: &mut Adam,
    loader: &mut BatchLoader,
    on_batch: &mut (dyn FnMut(&EpochStats) + Send),
) -> Result<EpochStats, EpochError> {
    train_epoch_with(trainer, mlp, adam, loader, None, on_batch)
}

/// [`train_epoch`] with dropout's masks drawn from `rng` for each step in
/// turn ([`Trainer::step_with`]): needed when the trainer's dropout rate
/// is above 0 (None is then an error, before the first batch), not used
/// when it is 0. The running loss and accuracy are those of the training
/// batches as trained on, with their units dropped.
pub fn train_epoch_with(
    trainer: &mut Trainer,
    mlp: &mut Mlp,
    adam: &mut Adam,
    loader: &mut BatchLoader,
    mut rng: Option<&mut ChaCha8Rng>,
    on_batch: &mut (dyn FnMut(&EpochStats) + Send),
) -> Result<EpochStats, EpochError> {
    trainer.check_rng(rng.as_deref_mut())?;
    // The whole epoch runs on the thread pool, so that each step's partner
    // and the loader's copies are hand-overs between its threads, not round
    // trips from here.
    rayon::scope(|_| {
        let mut total_loss = 0.0f64;
        let mut correct = 0usize;
        let mut stats = EpochStats::default();
        loader.start_epoch();
        let mut step = 0;
        while let Some((inputs, labels)) = loader.next_batch() {
            let loss = trainer.step_with(mlp, adam, input(inputs), labels, rng.as_deref_mut())?;
            step += 1;
            // Checked here, on the pool's thread, so that the caller gets an
            // error rather than a panic from its callback across rayon.
            if !loss.is_finite() {
                return Err(EpochError::NonFiniteLoss { step, loss });
            }
            total_loss += f64::from(loss) * labels.len() as f64;
            correct += count_correct(trainer.output(), labels);
            stats.examples += labels.len();
            stats.loss = (total_loss / stats.examples as f64) as f32;
            stats.accuracy = correct as f32 / stats.examples as f32;
            on_batch(&stats);
        }
        Ok(stats)
    })
}

/// How many rows' largest output (the first on a tie, as stage 5's
/// `predict_classes`) is at their label, without copying the outputs.
fn count_correct(outputs: Input<'_>, labels: &[usize]) -> usize {
    let mut correct = 0;
    for (r, &label) in labels.iter().enumerate() {
        let row = outputs.row(r);
        let mut best = 0;
        for (class, &value) in row.iter().enumerate() {
            if value > row[best] {
                best = class;
            }
        }
        correct += usize::from(best == label);
    }
    correct
}

/// Adam's first and second moments, one tensor per weight and bias.
struct Moments<'a> {
    first: &'a mut [Vec<f32>],
    second: &'a mut [Vec<f32>],
}

/// One tensor's (m, v).
type State<'a> = (&'a mut [f32], &'a mut [f32]);

impl<'a> Moments<'a> {
    /// (m, v) of the last layer not taken yet: of its weights, of its bias.
    fn take_last_layer(&mut self) -> (State<'a>, State<'a>) {
        let take = |tensors: &mut &'a mut [Vec<f32>]| {
            let all = std::mem::take(tensors);
            let (rest, last) = all.split_at_mut(all.len() - 2);
            *tensors = rest;
            let [weights, bias] = last else {
                unreachable!("split off two tensors")
            };
            (weights.as_mut_slice(), bias.as_mut_slice())
        };
        let (m_weights, m_bias) = take(&mut self.first);
        let (v_weights, v_bias) = take(&mut self.second);
        ((m_weights, v_weights), (m_bias, v_bias))
    }
}

/// The network, to read, or to update with Adam as the gradients come.
enum Network<'a> {
    Read(&'a Mlp),
    Update(&'a mut Mlp, Moments<'a>, &'a AdamSettings),
}

/// A block of columns of a layer's W: to read, or to update along with the
/// same columns of Adam's m and v.
enum Weights<'a> {
    Read(&'a [f32]),
    Update(&'a mut [f32], &'a mut [f32], &'a mut [f32]),
}

impl<'a> Weights<'a> {
    /// The values before `mid` and from `mid` on.
    fn split_at(self, mid: usize) -> (Self, Self) {
        match self {
            Self::Read(w) => {
                let (w0, w1) = w.split_at(mid);
                (Self::Read(w0), Self::Read(w1))
            }
            Self::Update(w, m, v) => {
                let (w0, w1) = w.split_at_mut(mid);
                let (m0, m1) = m.split_at_mut(mid);
                let (v0, v1) = v.split_at_mut(mid);
                (Self::Update(w0, m0, v0), Self::Update(w1, m1, v1))
            }
        }
    }

    fn values(&self) -> &[f32] {
        match self {
            Self::Read(w) => w,
            Self::Update(w, _, _) => w,
        }
    }

    /// The values in `range` (and their moments), borrowed.
    fn block(&mut self, range: Range<usize>) -> Weights<'_> {
        match self {
            Self::Read(w) => Weights::Read(&w[range]),
            Self::Update(w, m, v) => {
                let (m, v) = (&mut m[range.clone()], &mut v[range.clone()]);
                Weights::Update(&mut w[range], m, v)
            }
        }
    }

    /// Adam on these values with their gradient `grad`, when updating.
    fn update(self, settings: Option<&AdamSettings>, grad: &[f32]) {
        if let (Some(settings), Self::Update(w, m, v)) = (settings, self) {
            adam_update(settings, w, grad, m, v);
        }
    }
}

/// The same columns of dA (to fill), of Z and of dropout's mask (in a step
/// with dropout), with the activation between Z and A; None for the first
/// layer.
type Previous<'a> = Option<(&'a mut [f32], &'a [f32], Activation, Option<&'a [f32]>)>;

// ANCHOR: split
/// Where to split `n` units or features between the two cores: in half.
fn split_point(n: usize) -> usize {
    n / 2
}

/// Runs both halves, on both cores when there are enough multiply-adds
/// (`work`) to pay for the hand-over, else one after the other.
fn both(partner: &Partner, work: usize, first: impl FnOnce(), second: impl FnOnce() + Send) {
    if work >= PARALLEL_WORK {
        partner.join(first, second);
    } else {
        first();
        second();
    }
}
// ANCHOR_END: split

// ANCHOR: forward_units
/// One half of a layer's forward pass: Z = A Wᵀ + b and f(Z) for the output
/// units whose weights are the rows of `w`, then f(Z) ⊙ M when dropout's
/// mask M is given (in place in Z for the identity).
fn forward_units(
    a: Input<'_>,
    w: Input<'_>,
    bias: &[f32],
    (z, out): (&mut [f32], &mut [f32]),
    (activation, mask): (Activation, Option<&[f32]>),
) {
    if bias.is_empty() {
        return;
    }
    let rows = a.nrows();
    multiply(z, (rows, w.nrows()), a, false, w, true);
    match (activation, mask) {
        (_, Some(mask)) => add_bias_activate_and_drop(z, out, rows, bias, activation, mask),
        (Activation::Identity, None) => add_bias(z, rows, bias),
        (_, None) => add_bias_and_activate(z, out, rows, bias, activation),
    }
}
// ANCHOR_END: forward_units

// ANCHOR: backward_features
/// One half of a layer's backward pass and update, for the input features
/// whose columns of A are `a`: dA and dZ of the layer before (if any), dW,
/// then Adam on those columns of W (when updating).
fn backward_features(
    grad_z: Input<'_>,
    a: Input<'_>,
    weights: Weights<'_>,
    grad_w: &mut [f32],
    previous: Previous<'_>,
    settings: Option<&AdamSettings>,
) {
    let (rows, outputs, columns) = (a.nrows(), grad_z.ncols(), a.ncols());
    if columns == 0 {
        return;
    }
    if let Some((grad_a, z, activation, mask)) = previous {
        let w =
            DMatrixView::from_slice_with_strides(weights.values(), outputs, columns, 1, outputs);
        multiply(grad_a, (rows, columns), grad_z, false, w, false);
        match (activation, mask) {
            (_, Some(mask)) => times_mask_and_derivative(grad_a, mask, z, activation),
            (Activation::Identity, None) => {}
            (_, None) => times_derivative(grad_a, z, activation),
        }
    }
    multiply(grad_w, (outputs, columns), grad_z, true, a, false);
    weights.update(settings, grad_w);
}
// ANCHOR_END: backward_features

/// db for some of a layer's output units, the column sums of their columns
/// of dZ (`grad_z`, column-major with `rows` rows), then Adam on those
/// biases (when updating).
fn backward_bias(
    grad_z: &[f32],
    rows: usize,
    grad_bias: &mut [f32],
    bias: Weights<'_>,
    settings: Option<&AdamSettings>,
) {
    column_sums(grad_z, rows, grad_bias);
    bias.update(settings, grad_bias);
}

/// The linear layer a plan points at.
fn linear_layer<'a>(mlp: &'a Mlp, plan: &Plan) -> &'a Linear {
    match &mlp.layers[plan.index] {
        Layer::Linear(linear) => linear,
        _ => unreachable!("the plan points at a linear layer (check_network)"),
    }
}

/// The output of a linear layer after its activation.
fn layer_output<'a>(
    plan: &Plan,
    pre_activation: &'a Buffer,
    post_activation: &'a Buffer,
    rows: usize,
) -> Input<'a> {
    match plan.activation {
        Activation::Identity => pre_activation.view(rows),
        _ => post_activation.view(rows),
    }
}
