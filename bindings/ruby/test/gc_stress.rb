# frozen_string_literal: true

# Run on its own (test.sh does): GC.stress collects at every allocation, so any native buffer
# not kept alive until its C call returns, or any handle freed too early, shows up as wrong
# results or a crash. The case is small because GC.stress makes Ruby very slow.
require_relative 'test_helper'

class GCStressTest < Minitest::Test
  def stressed
    GC.stress = true
    yield
  ensure
    GC.stress = false
  end

  # The error `block` raises, as a value, so that it is checked outside the stressed section.
  def error_of
    yield
    nil
  rescue Ann::Error => e
    e
  end

  def test_a_small_index_under_gc_stress
    data = Support.dataset(:euclidean, 6, 4)
    Support.tmpdir do |dir|
      path = File.join(dir, 'stress.ann')
      found, loaded_found, error = stressed do
        index = Support.build(:euclidean, data, n_trees: 2).save(path)
        [[index.get_nns_by_vector(data[3], 3, include_distances: true),
          index.get_nns_by_vectors(data.first(2), 2, include_distances: true), index.get_item_vector(5)],
         Ann::Index.load(path) { |loaded| loaded.get_nns_by_vector(data[3], 3, include_distances: true) },
         error_of { index.get_nns_by_item(99, 1) }]
      end
      assert_equal 3, found[0][0][0]
      assert_equal found[0], loaded_found
      assert_equal [[0, 0.0], [1, 0.0]], found[1][0].map(&:first).zip(found[1][1].map(&:first))
      assert_equal data[5].map { |x| Support.f32(x) }, found[2]
      assert_instance_of Ann::ArgumentError, error
      assert_match(/99/, error.message)
    end
  end

  def test_packed_hamming_and_the_drop_in_under_gc_stress
    found, item = stressed do
      annoy = Ann::AnnoyIndex.new(n_features: 2, metric: 'hamming')
      annoy.add_item(0, [0b1011, 1])
      annoy.add_item(1, [0, (2**64) - 1])
      annoy.build(1)
      [annoy.get_nns_by_vector([0b1011, 1], 2, include_distances: true), annoy.get_item(1)]
    end # the index is garbage now; a stressed collection frees it through its AutoPointer
    assert_equal [[0, 1], [0, 66]], found
    assert_equal [0, (2**64) - 1], item
  end
end
