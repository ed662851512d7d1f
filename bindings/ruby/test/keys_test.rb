# frozen_string_literal: true

require_relative 'test_helper'

# Keys are any Integer from 0 to 2**64 - 2: sparse keys round-trip through files, a key never
# added is an Ann::ArgumentError, and n_items / n_stored keep their meanings.
class KeysTest < Minitest::Test
  SPARSE = [0, 7, 2**31, 2**40, (2**40) + 1, 2**62, (2**63) + 5, (2**64) - 2].freeze

  def sparse_index(metric = :euclidean)
    data = Support.dataset(metric, SPARSE.size + 40, 5, seed: 3)
    keys = SPARSE + Array.new(40) { |i| (i * 1_000_000_007) + (2**50) }
    index = Ann::Index.new(5, metric)
    keys.zip(data) { |key, vector| index.add_item(key, vector) }
    index.seed = 11
    [index.build(6), keys, data]
  end

  def test_sparse_keys_are_stored_and_returned
    index, keys, data = sparse_index
    assert_equal [(2**64) - 1, keys.size], [index.n_items, index.n_stored]
    keys.zip(data) { |key, vector| assert_equal vector.map { |x| Support.f32(x) }, index.get_item_vector(key) }
    all = index.get_nns_by_vector(data[5], keys.size, search_k: 10_000)
    assert_equal keys.sort, all.sort
    assert_equal (2**63) + 5, index.get_nns_by_item((2**63) + 5, 1).first
    assert_equal 0.0, index.get_distance(2**62, 2**62)
    assert_in_delta Support.distance(:euclidean, data[3], data[4]), index.get_distance(2**40, (2**40) + 1), 1e-5
    index.close
  end

  def test_sparse_keys_round_trip_through_save_and_load
    %i[euclidean angular].each do |metric|
      index, keys, = sparse_index(metric)
      Support.tmpdir do |dir|
        path = File.join(dir, 'sparse.ann')
        index.save(path)
        Ann::Index.load(path) do |loaded|
          assert_equal [index.n_items, index.n_stored, index.n_trees], [loaded.n_items, loaded.n_stored, loaded.n_trees]
          keys.each do |key|
            assert_equal index.get_item_vector(key), loaded.get_item_vector(key)
            assert_equal index.get_nns_by_item(key, 5, include_distances: true),
                         loaded.get_nns_by_item(key, 5, include_distances: true)
          end
          [2**40, (2**63) + 5].each { |key| assert_equal key, loaded.get_nns_by_item(key, 1).first }
          assert_raises(Ann::ArgumentError) { loaded.get_item_vector(2**41) }
        end
        info = Ann.file_info(path)
        assert_equal [:native, keys.size], [info.kind, info.n_items] # sparse: the header counts items
      end
      index.close
    end
  end

  def test_a_key_never_added_is_an_argument_error
    index, = sparse_index
    [1, (2**40) + 2, 2**63].each do |missing|
      [-> { index.get_item_vector(missing) }, -> { index.get_nns_by_item(missing, 3) },
       -> { index.get_distance(0, missing) }, -> { index.search_by_item(missing, 3) }].each do |call|
        error = assert_raises(Ann::ArgumentError, &call)
        assert_equal :invalid_argument, error.status
        assert_match(/does not exist/, error.message)
        assert_match(/never added/, error.message)
      end
    end
    index.close
  end

  def test_the_reserved_key_and_out_of_range_keys_are_refused_in_ruby
    index = Ann::Index.new(2, :euclidean)
    error = assert_raises(Ann::ArgumentError) { index.add_item((2**64) - 1, [1, 2]) }
    assert_match(/reserved/, error.message)
    assert_raises(Ann::ArgumentError) { index.add_item(2**64, [1, 2]) }
    assert_raises(Ann::ArgumentError) { index.add_item(-1, [1, 2]) }
    assert_raises(Ann::ArgumentError) { index.add_item(2.0**40, [1, 2]) }
    assert_equal [0, 0], [index.n_items, index.n_stored]
    index.close
  end

  def test_n_stored_counts_items_and_n_items_the_largest_key
    index = Ann::Index.new(2, :euclidean)
    assert_equal [0, 0], [index.n_items, index.n_stored]
    index.add_item(3, [1, 1]).add_item(9, [2, 2]).add_item(3, [1, 2]) # 3 replaced: still one item
    assert_equal [10, 2], [index.n_items, index.n_stored]
    index.add_item(2**40, [0, 0])
    assert_equal [(2**40) + 1, 3], [index.n_items, index.n_stored]
    index.build(2)
    assert_equal [3, 9, 2**40], index.get_nns_by_vector([1, 1], 10).sort
    index.close
  end

  def test_save_annoy_needs_annoys_layout
    sparse = Ann::Index.new(2, :euclidean)
    sparse.add_item(0, [0, 0]).add_item(2, [1, 1]).add_item((2**31) - 2, [2, 2]) # far more holes than items
    sparse.build(1)
    Support.tmpdir do |dir|
      error = assert_raises(Ann::StateError) { sparse.save_annoy(File.join(dir, 'x.annoy')) }
      assert_match(/Annoy's layout/, error.message)
      holes = Ann::Index.new(2, :euclidean)
      holes.add_item(0, [0, 0]).add_item(2, [1, 1]).add_item(3, [2, 2]).build(1) # half filled: Annoy's layout
      holes.save_annoy(File.join(dir, 'holes.annoy'))
      Ann::Index.load_annoy(File.join(dir, 'holes.annoy'), 2, :euclidean) do |loaded|
        assert_equal [4, 3], [loaded.n_items, loaded.n_stored]
        assert_equal [2, 3, 0], loaded.get_nns_by_vector([1.2, 1.2], 5)
      end
      holes.close
    end
    sparse.close
  end

  def test_the_drop_in_accepts_large_keys_too
    annoy = Ann::AnnoyIndex.new(n_features: 2, metric: 'euclidean')
    annoy.add_item(2**40, [1, 1])
    annoy.add_item(5, [0, 0])
    annoy.build(2)
    assert_equal [(2**40) + 1, 2], [annoy.n_items, annoy.index.n_stored]
    assert_equal [2**40, 5], annoy.get_nns_by_vector([0.9, 0.9], 2)
    assert_equal [Support.f32(1.0), 1.0], annoy.get_item(2**40)
    assert_raises(Ann::ArgumentError) { annoy.add_item((2**64) - 1, [1, 1]) }
    annoy.close
  end
end
