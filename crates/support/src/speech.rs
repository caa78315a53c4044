//! [`Phone`]: a phone as a speech synthesiser reports it, the input of
//! stage 6's `frame_labels`.

/// One phone: its class (0..40, in HW1P2's order) and how long it sounds.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Phone {
    pub class: usize,
    pub milliseconds: f32,
}
