use course_support::check::assert_close;
use nalgebra::dvector;
use stage_1::perceptron::weighted_sum;

#[test]
fn weighted_sum_by_hand() {
    let got = weighted_sum(&dvector![0.5, -0.5], 0.25, &dvector![1.0, 2.0]);
    assert_close("weighted_sum([0.5, -0.5], 0.25, [1, 2])", -0.25, got, 1e-6);
}
