# frozen_string_literal: true

require_relative 'test_helper'

# The Ann::Index API: construction, building, queries, accessors and state changes.
class IndexTest < Minitest::Test
  def setup
    @index = Ann::Index.new(3, :angular)
    [[1, 0, 0], [0, 1, 0], [0, 0, 1], [0.7, 0.7, 0]].each_with_index { |v, id| @index.add_item(id, v) }
  end

  def teardown
    @index.close
  end

  def test_library_version_and_abi
    assert_match(/\A\d+\.\d+\.\d+/, Ann.version)
    assert_equal Ann::ABI_VERSION, Ann.abi_version
    assert File.exist?(Ann.library_path) || Ann.library_path == Ann::Locate::SONAME
  end

  def test_metric_accepts_symbols_strings_and_aliases
    { :euclidean => :euclidean, 'manhattan' => :manhattan, 'cosine' => :angular, :dot => :dot }.each do |given, name|
      index = Ann::Index.new(4, given)
      assert_equal [name, 4], [index.metric, index.dim]
      index.close
    end
  end

  def test_add_item_returns_self_and_counts_slots_with_holes
    assert_same @index, @index.add_item(9, [1, 1, 1])
    assert_equal 10, @index.n_items
    assert_equal 0, @index.n_trees
  end

  def test_queries_return_ids_or_ids_and_distances
    @index.build(10)
    assert_equal 10, @index.n_trees
    ids = @index.get_nns_by_vector([0.9, 0.6, 0], 3)
    assert_equal [3, 0, 1], ids
    found_ids, distances = @index.get_nns_by_vector([0.9, 0.6, 0], 3, include_distances: true)
    assert_equal ids, found_ids
    assert_equal distances.sort, distances
    assert_in_delta Support.distance(:angular, [0.9, 0.6, 0], [0.7, 0.7, 0]), distances.first, 1e-6
    ids, distances = @index.get_nns_by_item(3, 10, search_k: 100, include_distances: true)
    assert_equal [3, 0, 1, 2], ids
    expected = ids.map { |id| Support.distance(:angular, [0.7, 0.7, 0], @index.get_item_vector(id)) }
    expected.zip(distances).each { |want, got| assert_in_delta want, got, 1e-6 }
  end

  def test_n_larger_than_the_index_and_zero
    @index.build(2)
    assert_equal 4, @index.get_nns_by_item(0, 1_000_000).size
    assert_equal [], @index.get_nns_by_item(0, 0)
    assert_equal [[], []], @index.get_nns_by_vector([1, 1, 1], 0, include_distances: true)
  end

  def test_item_vectors_are_stored_as_float32
    @index.add_item(4, [0.1, 1e-3, -2.5])
    assert_equal [0.1, 1e-3, -2.5].map { |x| Support.f32(x) }, @index.get_item_vector(4)
    assert_equal [0.7, 0.7, 0].map { |x| Support.f32(x) }, @index.get_item_vector(3)
  end

  def test_vectors_may_be_any_numeric_or_to_a
    @index.add_item(5, [1, Rational(1, 2), 2.0])
    @index.add_item(6, 1..3)
    assert_equal [1.0, 0.5, 2.0], @index.get_item_vector(5)
    assert_equal [1.0, 2.0, 3.0], @index.get_item_vector(6)
  end

  def test_get_distance
    assert_in_delta Math.sqrt(2), @index.get_distance(0, 1), 1e-6
    assert_equal 0.0, @index.get_distance(2, 2)
  end

  def test_seed_defaults_round_trips_and_wraps
    assert_kind_of Integer, @index.seed
    @index.seed = 7
    assert_equal 7, @index.seed
    @index.seed = -1
    assert_equal (2**64) - 1, @index.seed
  end

  def test_one_seed_gives_the_same_trees_whatever_the_thread_count
    data = Support.dataset(:euclidean, 300, 8)
    one = Support.build(:euclidean, data, seed: 5)
    other = Ann::Index.new(8, :euclidean)
    data.each_with_index { |v, id| other.add_item(id, v) }
    other.seed = 5
    other.build(10, n_threads: 1)
    Support.tmpdir do |dir|
      one.save(File.join(dir, 'a.ann'))
      other.save(File.join(dir, 'b.ann'))
      assert_equal File.binread(File.join(dir, 'a.ann')), File.binread(File.join(dir, 'b.ann'))
    end
  end

  def test_unbuild_allows_adding_and_building_again
    @index.build(3)
    assert_same @index, @index.unbuild
    assert_equal 0, @index.n_trees
    @index.add_item(4, [0, 0.7, 0.7])
    @index.build(3)
    assert_equal 4, @index.get_nns_by_vector([0, 0.6, 0.8], 1).first
  end

  def test_unload_empties_the_index
    @index.build(3)
    assert_same @index, @index.unload
    assert_equal [0, 0, 3, :angular], [@index.n_items, @index.n_trees, @index.dim, @index.metric]
    @index.add_item(0, [1, 2, 3])
    assert_equal 1, @index.n_items
  end

  def test_batch_queries_equal_single_queries
    data = Support.dataset(:euclidean, 200, 6)
    index = Support.build(:euclidean, data)
    queries = data.first(7)
    ids, distances = index.get_nns_by_vectors(queries, 5, n_threads: 2, include_distances: true)
    queries.each_with_index do |query, q|
      assert_equal index.get_nns_by_vector(query, 5, include_distances: true), [ids[q], distances[q]]
    end
    assert_equal ids, index.get_nns_by_vectors(queries, 5)
    assert_equal [], index.get_nns_by_vectors([], 5)
  end

  def test_batch_rows_are_cut_to_their_counts
    small = Ann::Index.new(2, :euclidean)
    small.add_item(0, [0, 0]).add_item(2, [1, 1]).build(1) # id 1 is a hole
    assert_equal [[0, 2], [2, 0]], small.get_nns_by_vectors([[0, 0], [1, 1]], 5)
  end

  def test_hamming_packed_and_float_forms_agree
    index = Ann::Index.new(70, :hamming)
    bits = Array.new(70) { |b| b.odd? || b == 68 ? 1.0 : 0.0 }
    index.add_item(0, bits)
    words = [0xAAAA_AAAA_AAAA_AAAA, 0b11_1010]
    index.add_item_packed(1, words)
    index.add_item_packed(2, [0, 0])
    assert_equal words, index.get_item_packed(0)
    assert_equal bits, index.get_item_vector(1)
    index.build(2)
    assert_equal index.get_nns_by_vector(bits, 3, include_distances: true),
                 index.get_nns_by_packed(words, 3, include_distances: true)
    assert_equal 36.0, index.get_distance(0, 2)
  end

  def test_on_disk_build_maps_the_file
    Support.tmpdir do |dir|
      path = File.join(dir, 'disk.ann')
      index = Ann::Index.new(3, :euclidean)
      index.on_disk_build(path)
      10.times { |id| index.add_item(id, [id, id * 2, 1]) }
      index.build(4)
      assert_equal :native, Ann.file_info(path).kind
      assert_raises(Ann::StateError) { index.add_item(10, [1, 1, 1]) }
      Ann::Index.load(path) { |loaded| assert_equal index.get_nns_by_item(3, 4), loaded.get_nns_by_item(3, 4) }
      index.close
    end
  end

  def test_inspect_says_what_it_is
    assert_equal '#<Ann::Index dim=3 metric=angular n_items=4 n_trees=0>', @index.inspect
    @index.close
    assert_equal '#<Ann::Index dim=3 metric=angular closed>', @index.inspect
  end
end
