"""torch.multinomial on the device.

The draws cannot equal CPU's (another generator), so the tests check what the
op promises: int64 indices of CPU's shape, empirical frequencies that match the
weights (a chi-square bound, deterministic under a fixed seed), never a
zero-weight category while positive ones are left, no repeats without
replacement, the same draws for the same seed; and CPU's errors, the ones on
the data raised at the next synchronization."""
import pytest
import torch

from op_testing import DEVICE, check_raises, make, to_device

DTYPES = [torch.float32, torch.float64, torch.bfloat16, torch.float16]
INF, NAN = float("inf"), float("nan")


def counts(indices, categories):
    return torch.bincount(indices.cpu().reshape(-1), minlength=categories).double()


def chi_square(observed, weights):
    """Pearson's statistic of observed counts against the weights (those with
    weight 0 must be empty)."""
    weights = weights.double()
    expected = observed.sum() * weights / weights.sum()
    positive = weights > 0
    assert observed[~positive].sum() == 0, f"drew a zero-weight category: {observed}"
    return float(((observed[positive] - expected[positive]) ** 2 / expected[positive]).sum())


# A chi-square with at most 7 degrees of freedom stays below 40 with
# probability 1 - 1e-6; the seeds are fixed, so the tests are deterministic.
CHI_SQUARE_BOUND = 40.0
WEIGHTS = torch.tensor([0.0, 3.0, 0.5, 0.0, 2.0, 1.5, 0.0, 1.0])


def on_device(weights, dtype=torch.float32):
    return weights.to(dtype).to(DEVICE)


@pytest.mark.parametrize("dtype", DTYPES, ids=str)
@pytest.mark.parametrize("replacement", [True, False], ids=["replacement", "race"])
def test_single_draws_follow_the_weights(dtype, replacement):
    # One draw per row of many equal rows: the rows are an expanded (stride 0) view.
    torch.manual_seed(0)
    rows = on_device(WEIGHTS, dtype).expand(20_000, -1)
    drawn = torch.multinomial(rows, 1, replacement)
    assert drawn.dtype == torch.int64 and drawn.shape == (20_000, 1)
    assert chi_square(counts(drawn, 8), WEIGHTS) < CHI_SQUARE_BOUND


@pytest.mark.parametrize("dtype", DTYPES, ids=str)
def test_draws_with_replacement_follow_the_weights(dtype):
    torch.manual_seed(1)
    drawn = torch.multinomial(on_device(WEIGHTS, dtype), 30_000, replacement=True)
    assert drawn.dtype == torch.int64 and drawn.shape == (30_000,)
    assert chi_square(counts(drawn, 8), WEIGHTS) < CHI_SQUARE_BOUND


def test_rows_draw_from_their_own_weights():
    torch.manual_seed(2)
    weights = torch.tensor([[1.0, 0.0, 0.0, 0.0],
                            [0.0, 0.0, 0.0, 5.0],
                            [1.0, 2.0, 3.0, 4.0],
                            [0.0, 1e-30, 0.0, 0.0]])
    drawn = torch.multinomial(weights.to(DEVICE), 5000, replacement=True).cpu()
    assert drawn.shape == (4, 5000)
    assert (drawn[0] == 0).all() and (drawn[1] == 3).all() and (drawn[3] == 1).all()
    assert chi_square(counts(drawn[2], 4), weights[2]) < CHI_SQUARE_BOUND


def test_huge_and_tiny_weights():
    # Running sums of float32 weights near the largest float would overflow;
    # weights far apart in scale still beat zero weights. (Subnormal weights
    # are not tested: the device, like TPUs, treats them as zero.)
    torch.manual_seed(3)
    big = torch.tensor([3e38, 0.0, 3e38, 3e38])
    for replacement in (True, False):
        drawn = torch.multinomial(big.to(DEVICE).expand(6000, -1), 1, replacement)
        assert chi_square(counts(drawn, 4), torch.tensor([1.0, 0, 1, 1])) < CHI_SQUARE_BOUND
    tiny = torch.tensor([0.0, 1e-37, 0.0, 0.0])
    for replacement in (True, False):
        drawn = torch.multinomial(tiny.to(DEVICE).expand(100, -1), 1, replacement)
        assert (drawn.cpu() == 1).all()
    assert (torch.multinomial(tiny.to(DEVICE), 50, True).cpu() == 1).all()
    apart = torch.tensor([0.0, 1e-30, 0.0, 1e30, 0.0])
    drawn = torch.multinomial(apart.to(DEVICE).expand(100, -1), 2).cpu()
    assert (drawn[:, 0] == 3).all() and (drawn[:, 1] == 1).all()
    assert (torch.multinomial(apart.to(DEVICE), 100, True).cpu() == 3).all()


def test_zero_weights_at_the_edges_are_never_drawn():
    # Zero weights before, between and after the positive ones, in a row long
    # enough that the running sums are rounded.
    torch.manual_seed(4)
    weights = torch.zeros(3000)
    weights[1000:2000:7] = torch.rand(143, generator=torch.Generator().manual_seed(0)) + 0.01
    weights[1500] = 0.0
    drawn = torch.multinomial(weights.to(DEVICE), 20_000, replacement=True).cpu()
    assert (weights[drawn] > 0).all()
    assert drawn.min() == 1000 and drawn.max() == 1994
    first = torch.multinomial(weights.to(DEVICE).expand(200, -1), 142, replacement=False).cpu()
    assert (weights[first] > 0).all()


@pytest.mark.parametrize("dtype", DTYPES, ids=str)
def test_without_replacement_no_category_repeats(dtype):
    torch.manual_seed(5)
    weights = make((50, 8), dtype, low=0.0, high=1.0)
    weights[:, 3] = 0
    drawn = torch.multinomial(weights.to(DEVICE), 7, replacement=False).cpu()
    assert drawn.shape == (50, 7)
    for row in drawn:
        assert len(set(row.tolist())) == 7
        assert 3 not in row.tolist()


def test_all_categories_without_replacement_is_a_permutation():
    torch.manual_seed(6)
    drawn = torch.multinomial(torch.rand(20, 100).to(DEVICE) + 0.1, 100).cpu()
    assert torch.equal(drawn.sort(dim=1).values, torch.arange(100).expand(20, -1))


def test_without_replacement_first_and_second_draws():
    # P(second = j) = sum over i != j of p_i * p_j / (1 - p_i).
    torch.manual_seed(7)
    p = torch.tensor([0.5, 0.3, 0.2], dtype=torch.float64)
    drawn = torch.multinomial(p.to(DEVICE).expand(30_000, -1), 2).cpu()
    assert chi_square(counts(drawn[:, 0], 3), p) < CHI_SQUARE_BOUND
    second = torch.tensor([sum(p[i] * p[j] / (1 - p[i]) for i in range(3) if i != j)
                           for j in range(3)])
    assert chi_square(counts(drawn[:, 1], 3), second) < CHI_SQUARE_BOUND


def test_too_few_positive_weights_without_replacement():
    # CPU fills up with zero-weight categories once the positive ones are drawn.
    torch.manual_seed(8)
    weights = torch.tensor([[0.0, 1.0, 0.0, 2.0, 0.0]]).expand(200, -1)
    drawn = torch.multinomial(weights.to(DEVICE), 4).cpu()
    assert torch.multinomial(weights, 4).shape == drawn.shape
    for row in drawn.tolist():
        assert sorted(row[:2]) == [1, 3] and len(set(row)) == 4


def test_same_seed_same_draws():
    weights = torch.rand(6, 30).to(DEVICE)
    results = []
    for _ in range(2):
        torch.manual_seed(9)
        results.append([torch.multinomial(weights, 10, True).cpu(),
                        torch.multinomial(weights, 10, False).cpu(),
                        torch.multinomial(weights, 1).cpu()])
    for first, again in zip(*results):
        assert torch.equal(first, again)
    assert not torch.equal(torch.multinomial(weights, 10, True).cpu(), results[0][0])


def test_shapes_and_non_contiguous_input():
    torch.manual_seed(10)
    weights = torch.rand(7, 5)
    transposed = to_device(weights).t()
    assert not transposed.is_contiguous()
    drawn = torch.multinomial(transposed, 3).cpu()
    assert drawn.shape == torch.multinomial(weights.t(), 3).shape == (5, 3)
    every_other = to_device(make((4, 6), torch.float32, low=0.0, high=1.0, noncontiguous=True))
    assert torch.multinomial(every_other, 6, True).shape == (4, 6)


@pytest.mark.parametrize("replacement", [True, False])
def test_no_rows(replacement):
    for num_samples in (1, 3):
        expected = torch.multinomial(torch.zeros(0, 3), num_samples, replacement)
        actual = torch.multinomial(torch.zeros(0, 3, device=DEVICE), num_samples, replacement)
        assert actual.dtype == expected.dtype and actual.shape == expected.shape
    assert torch.multinomial(torch.zeros(0, 0, device=DEVICE), 2, True).shape == (0, 2)


@pytest.mark.filterwarnings("ignore:An output with one or more elements was resized")
def test_out():
    torch.manual_seed(11)
    weights = torch.tensor([[0.0, 1.0, 1.0], [1.0, 0.0, 0.0]]).to(DEVICE)
    out = torch.empty(0, dtype=torch.int64, device=DEVICE)
    result = torch.multinomial(weights, 2, out=out)
    assert result is out and out.shape == (2, 2)
    assert sorted(out[0].tolist()) == [1, 2] and out[1, 0].item() == 0
    out = torch.empty(2, 3, dtype=torch.int64, device=DEVICE)
    torch.multinomial(weights, 4, True, out=out)
    assert out.shape == (2, 4) and (out[0].cpu() > 0).all() and (out[1].cpu() == 0).all()


def test_generator_argument():
    weights = torch.rand(4, 9).to(DEVICE)
    generator = torch.Generator(device=DEVICE)
    drawn = torch.multinomial(weights, 3, generator=generator)
    assert drawn.shape == (4, 3)


@pytest.mark.parametrize("make_args, message", [
    (lambda: (torch.ones(2, 2, 2), 1), "prob_dist must be 1 or 2 dim"),
    (lambda: (torch.tensor(1.0), 1), "prob_dist must be 1 or 2 dim"),
    (lambda: (torch.ones(3, dtype=torch.int64), 1),
     "multinomial only supports floating-point dtypes for input, got: Long"),
    (lambda: (torch.ones(3, dtype=torch.bool), 1, True),
     "multinomial only supports floating-point dtypes for input, got: Bool"),
    (lambda: (torch.ones(3), 0), r"cannot sample n_sample <= 0 samples"),
    (lambda: (torch.ones(3), -2, True), r"cannot sample n_sample <= 0 samples"),
    (lambda: (torch.ones(2, 3), 4), r"cannot sample n_sample > prob_dist.size\(-1\) samples"),
    (lambda: (torch.zeros(2, 0), 2, True), r"sum of probabilities <= 0"),
    (lambda: (torch.zeros(2, 0), 1, True), "cannot compute aminmax over an empty dimension"),
    (lambda: (torch.zeros(0, 2**24 + 1), 1), "number of categories cannot exceed 2\\^24"),
])
def test_argument_errors(make_args, message):
    args = make_args()
    error = check_raises(torch.multinomial, *args)
    assert error.__class__ is RuntimeError
    assert __import__("re").search(message, str(error)), str(error)


def test_out_must_be_int64():
    with pytest.raises(RuntimeError, match="multinomial expects Long tensor out, got: Int"):
        torch.multinomial(torch.ones(3, device=DEVICE), 2,
                          out=torch.empty(2, dtype=torch.int32, device=DEVICE))


RACE = "probability tensor contains either `inf`, `nan` or element < 0"
NEGATIVE = r"invalid multinomial distribution \(encountering probability entry < 0\)"
INFINITE = r"invalid multinomial distribution \(encountering probability entry = infinity or NaN\)"
ZERO_SUM = r"invalid multinomial distribution \(sum of probabilities <= 0\)"


@pytest.mark.parametrize("weights, num_samples, replacement, message", [
    ([1.0, -1.0, 2.0], 1, False, RACE),
    ([1.0, INF, 2.0], 2, False, RACE),
    ([1.0, NAN, 2.0], 1, True, RACE),
    ([[1.0, 1.0], [0.0, 0.0]], 1, True, ZERO_SUM),
    ([[0.0, 0.0], [1.0, -1.0]], 2, False, RACE),
    ([1.0, -1e-30, 2.0], 2, True, NEGATIVE),
    ([1.0, NAN, 2.0], 2, True, NEGATIVE),
    ([1.0, -INF, 2.0], 2, True, NEGATIVE),
    ([1.0, INF, 2.0], 2, True, INFINITE),
    ([INF, -1.0, 2.0], 2, True, INFINITE),
    ([[1.0, 1.0], [0.0, 0.0], [-1.0, 1.0]], 2, True, ZERO_SUM),
    ([[1.0, 1.0], [1.0, -1.0], [0.0, 0.0]], 2, True, NEGATIVE),
], ids=str)
def test_data_errors_raise_at_the_next_synchronization(weights, num_samples, replacement,
                                                        message):
    weights = torch.tensor(weights)
    with pytest.raises(RuntimeError, match=message):
        torch.multinomial(weights, num_samples, replacement)
    with pytest.raises(RuntimeError, match=message):
        torch.multinomial(weights.to(DEVICE), num_samples, replacement).cpu()
    torch.tpu.synchronize()
