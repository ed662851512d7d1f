# frozen_string_literal: true

require_relative 'test_helper'

# Ann::AnnoyIndex behaves as annoy-rb's Annoy::AnnoyIndex: names, return values, errors.
# The first tests replay annoy-rb's own spec (spec/annoy_spec.rb) on its manhattan example.
class AnnoyIndexTest < Minitest::Test
  ITEMS = [[0, 1, 2, 3], [1, 1, 2, 3], [1, 1, 2, 4], [2, 1, 2, 5], [2, 1, 2, 6]].freeze

  def setup
    @index = Ann::AnnoyIndex.new(n_features: 4, metric: 'manhattan')
    assert_nil @index.seed(1)
    ITEMS.each_with_index { |v, i| assert_equal true, @index.add_item(i, v) }
    assert_equal true, @index.build(3)
  end

  def teardown
    @index.close
  end

  def test_annoy_rb_spec_shapes
    assert_equal [0, 1, 2], @index.get_nns_by_item(0, 3)
    assert_equal [[0, 1, 2], [0.0, 1.0, 2.0]], @index.get_nns_by_item(0, 3, include_distances: true)
    assert_equal [0, 1, 2], @index.get_nns_by_vector([0, 1, 2, 3], 3)
    assert_equal [[0, 1, 2], [0.0, 1.0, 2.0]], @index.get_nns_by_vector([0, 1, 2, 3], 3, include_distances: true)
    assert_equal [0.0, 1.0, 2.0, 3.0], @index.get_item(0)
    assert_equal [4, 'manhattan', 'float64', 5, 3], [@index.n_features, @index.metric, @index.dtype, @index.n_items,
                                                     @index.n_trees]
    assert_equal 1.0, @index.get_distance(0, 1)
    assert_nil @index.verbose(true)
  end

  def test_defaults_and_readers
    index = Ann::AnnoyIndex.new(n_features: 2.0)
    assert_equal [2, 'angular', 'float64'], [index.n_features, index.metric, index.dtype]
    hamming = Ann::AnnoyIndex.new(n_features: 2, metric: 'hamming', dtype: 'float32')
    assert_equal 'uint64', hamming.dtype
    assert_equal [128, :hamming], [hamming.index.dim, hamming.index.metric]
  end

  def test_annoy_rb_argument_errors
    error = assert_raises(ArgumentError) { Ann::AnnoyIndex.new(n_features: 'x') }
    assert_equal 'Expect n_features to be Integer.', error.message
    error = assert_raises(ArgumentError) { Ann::AnnoyIndex.new(n_features: 3, metric: 'cityblock') }
    assert_equal 'No such metric: cityblock.', error.message
    error = assert_raises(ArgumentError) { @index.add_item(5, 'abcd') }
    assert_equal 'Expect item vector to be Array.', error.message
    error = assert_raises(ArgumentError) { @index.get_nns_by_vector([1, 2], 3) }
    assert_equal 'Array size does not match to index dimensionality.', error.message
    assert_raises(TypeError) { @index.get_nns_by_vector([1, 2, nil, 3], 3) }
  end

  def test_libann_errors_are_runtime_errors_as_in_annoy_rb
    assert_raises(RuntimeError) { @index.add_item(5, [1, 2, 3, 4]) } # built: Ann::StateError
    assert_raises(Ann::StateError) { @index.build(2) }
    assert_raises(Ann::ArgumentError) { @index.get_item(99) } # annoy-rb returns garbage here
    assert_raises(Ann::IOError) { @index.load('/nonexistent.ann') }
  end

  def test_save_maps_the_file_and_load_reads_it_back
    Support.tmpdir do |dir|
      path = File.join(dir, 'drop-in.ann')
      assert_equal true, @index.save(path)
      assert_raises(Ann::StateError) { @index.add_item(9, [1, 1, 1, 1]) } # mapped, as in Annoy
      loaded = Ann::AnnoyIndex.new(n_features: 4, metric: 'manhattan')
      assert_equal true, loaded.load(path, prefault: true)
      assert_equal [5, 3, @index.get_item(0)], [loaded.n_items, loaded.n_trees, loaded.get_item(0)]
      expected = @index.get_nns_by_item(4, 5, include_distances: true)
      assert_equal expected, loaded.get_nns_by_item(4, 5, include_distances: true)
      loaded.close
    end
  end

  def test_load_refuses_another_metric_or_dimension_and_keeps_the_index
    Support.tmpdir do |dir|
      path = File.join(dir, 'm.ann')
      @index.save(path)
      other = Ann::AnnoyIndex.new(n_features: 4, metric: 'euclidean')
      other.add_item(0, [1, 2, 3, 4])
      error = assert_raises(Ann::IOError) { other.load(path) }
      assert_match(/holds a manhattan index of dimension 4/, error.message)
      assert_equal 1, other.n_items
      other.close
    end
  end

  def test_save_annoy_then_load_as_annoy_file
    Support.tmpdir do |dir|
      path = File.join(dir, 'm.annoy')
      assert_equal true, @index.save_annoy(path)
      loaded = Ann::AnnoyIndex.new(n_features: 4, metric: 'manhattan', dtype: 'float32')
      loaded.load(path)
      assert_equal @index.get_nns_by_item(0, 5), loaded.get_nns_by_item(0, 5)
      loaded.close
    end
  end

  def test_unload_unbuild_and_on_disk_build
    assert_equal true, @index.unbuild
    assert_equal true, @index.add_item(5, [9, 9, 9, 9])
    assert_equal true, @index.unload
    assert_equal 0, @index.n_items
    Support.tmpdir do |dir|
      disk = Ann::AnnoyIndex.new(n_features: 2, metric: 'euclidean')
      assert_equal true, disk.on_disk_build(File.join(dir, 'disk.ann'))
      disk.add_item(0, [0, 0])
      disk.add_item(1, [1, 1])
      disk.build(2)
      assert_equal [1, 0], disk.get_nns_by_vector([0.9, 0.9], 2)
      disk.close
    end
  end

  def test_float32_storage_whatever_the_dtype
    index = Ann::AnnoyIndex.new(n_features: 2, metric: 'euclidean', dtype: 'float64')
    index.add_item(0, [0.1, 1])
    assert_equal [Support.f32(0.1), 1.0], index.get_item(0)
    refute_equal 0.1, index.get_item(0).first
    index.close
  end

  def test_hamming_takes_64_bit_words_and_gives_integer_distances
    index = Ann::AnnoyIndex.new(n_features: 2, metric: 'hamming')
    index.add_item(0, [0b1011, 0])
    index.add_item(1, [0, (2**64) - 1])
    index.add_item(2, [0b1, 0])
    index.build(2)
    assert_equal [0, (2**64) - 1], index.get_item(1)
    assert_equal 67, index.get_distance(0, 1)
    assert_equal [[2, 0, 1], [0, 2, 65]], index.get_nns_by_vector([0b1, 0], 3, include_distances: true)
    assert_equal [[0, 2, 1], [0, 2, 67]], index.get_nns_by_item(0, 3, include_distances: true)
    assert_raises(Ann::ArgumentError) { index.get_nns_by_vector([-1, 0], 1) }
    index.close
  end

  def test_close_then_use
    assert_nil @index.close
    assert_nil @index.close
    assert @index.closed?
    assert_raises(Ann::ClosedError) { @index.n_items }
  end
end
