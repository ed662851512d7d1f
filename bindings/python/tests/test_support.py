"""The tie-aware comparison the interop tests rely on must accept ties and only ties."""

import pytest
from support import assert_same_neighbours


def test_identical_lists():
    assert assert_same_neighbours([1, 2, 3], [0.1, 0.2, 0.3], [1, 2, 3], [0.1, 0.2, 0.3]) == 0


def test_a_swap_inside_a_tie_is_accepted():
    assert assert_same_neighbours([1, 2, 3], [0.1, 0.2, 0.2], [1, 3, 2], [0.1, 0.2, 0.2 * (1 + 1e-6)]) == 2


def test_a_tie_at_the_cut_off_is_accepted():
    assert assert_same_neighbours([1, 2, 3], [0.1, 0.2, 0.3], [1, 2, 4], [0.1, 0.2, 0.3]) == 1


def test_a_swap_of_distinct_distances_is_rejected():
    with pytest.raises(AssertionError):
        assert_same_neighbours([1, 2, 3], [0.1, 0.2, 0.3], [2, 1, 3], [0.1, 0.2, 0.3])


def test_a_different_item_at_a_different_distance_is_rejected():
    with pytest.raises(AssertionError):
        assert_same_neighbours([1, 2, 3], [0.1, 0.2, 0.3], [1, 2, 4], [0.1, 0.2, 0.31])


def test_an_item_replaced_in_the_middle_is_rejected():
    # 5 replaces 2 at an equal distance, but 2 is missing from the second list while not at the
    # cut-off distance: that is not a tie.
    with pytest.raises(AssertionError):
        assert_same_neighbours([1, 2, 3], [0.1, 0.2, 0.3], [1, 5, 3], [0.1, 0.2, 0.3])


def test_lengths_must_match():
    with pytest.raises(AssertionError):
        assert_same_neighbours([1, 2], [0.1, 0.2], [1], [0.1])
