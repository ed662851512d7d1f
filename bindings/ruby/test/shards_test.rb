# frozen_string_literal: true

require_relative 'test_helper'
require 'fileutils'
require 'pathname'

# Ann::Index.open_shards: several files queried as one read-only index, with the results of
# one index holding the same items, and clear errors for what cannot be sharded.
class ShardsTest < Minitest::Test
  DIM = 6
  N = 600
  TREES = 5

  def setup
    @dir = Dir.mktmpdir('ann-ruby-shards')
    @data = Support.dataset(:angular, N, DIM, seed: 8)
    @keys = Array.new(N) { |i| i.even? ? i : (2**40) + i } # sparse keys in every shard
    @paths = Array.new(3) { |s| File.join(@dir, "shard#{s}.ann") }
    @paths.each_with_index { |path, s| save(path, (0...N).select { |i| i % 3 == s }) }
    @whole = File.join(@dir, 'whole.ann')
    save(@whole, (0...N).to_a)
  end

  def teardown
    FileUtils.remove_entry(@dir)
  end

  # Saves the items `rows` of @data, under their keys, in `path`.
  def save(path, rows, dim: DIM, metric: :angular)
    index = Ann::Index.new(dim, metric)
    rows.each { |i| index.add_item(@keys[i], @data[i].first(dim)) }
    index.seed = 3
    index.build(TREES).save(path).close
  end

  def test_shards_answer_as_one_index_when_search_k_covers_everything
    Ann::Index.open_shards(@paths) do |shards|
      Ann::Index.load(@whole) do |whole|
        assert_equal [whole.n_items, N, 3 * TREES], [shards.n_items, shards.n_stored, shards.n_trees]
        assert_equal [DIM, :angular], [shards.dim, shards.metric]
        k = N * TREES * 3 * 4
        queries = Support.dataset(:angular, 5, DIM, seed: 77) + @data.first(2)
        allow = @keys.select.with_index { |_, i| i % 5 == 1 }
        queries.each do |query|
          assert_equal whole.get_nns_by_vector(query, 10, search_k: k, include_distances: true),
                       shards.get_nns_by_vector(query, 10, search_k: k, include_distances: true)
          assert_equal whole.search(query, 10, search_k: k, include_distances: true),
                       shards.search(query, 10, search_k: k, include_distances: true)
          assert_equal whole.search(query, 10, search_k: k, allow: allow),
                       shards.search(query, 10, search_k: k, allow: allow)
          assert_equal whole.search(query, 10, search_k: k, &:odd?), shards.search(query, 10, search_k: k, &:odd?)
        end
        options = Ann::SearchOptions.new(search_k: k, deny: @keys.first(50))
        assert_equal whole.search_batch(queries, 8, options, include_distances: true),
                     shards.search_batch(queries, 8, options, include_distances: true, n_threads: 2)
        assert_equal whole.get_nns_by_vectors(queries, 8, search_k: k),
                     shards.get_nns_by_vectors(queries, 8, search_k: k)
        [@keys[0], @keys[1], @keys[N - 1]].each do |key|
          assert_equal whole.get_nns_by_item(key, 6, search_k: k), shards.get_nns_by_item(key, 6, search_k: k)
          assert_equal whole.search_by_item(key, 6, options), shards.search_by_item(key, 6, options)
          assert_equal whole.get_item_vector(key), shards.get_item_vector(key)
          assert_equal whole.get_distance(key, @keys[5]), shards.get_distance(key, @keys[5])
        end
        options.close
      end
    end
  end

  def test_shards_are_read_only_and_close_like_an_index
    shards = Ann::Index.open_shards(@paths.map { |path| Pathname(path) }, prefault: true)
    assert_raises(Ann::StateError) { shards.add_item(10_000, Array.new(DIM, 1.0)) }
    assert_raises(Ann::StateError) { shards.build(2) }
    error = assert_raises(Ann::StateError) { shards.save(File.join(@dir, 'out.ann')) }
    assert_equal :invalid_state, error.status
    assert_match(/sharded/, error.message)
    assert_raises(Ann::StateError) { shards.save_annoy(File.join(@dir, 'out.annoy')) }
    refute File.exist?(File.join(@dir, 'out.ann'))
    assert_raises(Ann::ArgumentError) { shards.get_item_vector(1) } # a key in no shard
    shards.close
    assert_raises(Ann::ClosedError) { shards.n_stored }
    kept = nil
    assert_equal TREES, Ann::Index.open_shards([@paths[0]]) { |one| (kept = one).n_trees }
    assert kept.closed? # the block form closes the shards, as Ann::Index.load does
  end

  def test_bad_shard_lists_are_clear_errors
    error = assert_raises(Ann::ArgumentError) { Ann::Index.open_shards([]) }
    assert_equal :invalid_argument, error.status
    assert_match(/at least one/, error.message)
    other_dim = File.join(@dir, 'dim4.ann')
    save(other_dim, [1, 4], dim: 4) # keys in no other shard, but dimension 4
    error = assert_raises(Ann::ArgumentError) { Ann::Index.open_shards([@paths[0], other_dim]) }
    assert_match(/dim 4.*share metric and dimension/, error.message)
    other_metric = File.join(@dir, 'euclidean.ann')
    save(other_metric, [1, 4], metric: :euclidean)
    assert_raises(Ann::ArgumentError) { Ann::Index.open_shards([@paths[0], other_metric]) }
    # @whole holds the keys of shard 0 too.
    error = assert_raises(Ann::ArgumentError) { Ann::Index.open_shards([@paths[0], @whole]) }
    assert_match(/key \d+ is in both .*shard0\.ann and .*whole\.ann/, error.message)
    assert_raises(Ann::ArgumentError) { Ann::Index.open_shards([@paths[0], @paths[0]]) }
    assert_raises(Ann::IOError) { Ann::Index.open_shards([@paths[0], File.join(@dir, 'missing.ann')]) }
    assert_match(/paths\[1\]/, assert_raises(Ann::ArgumentError) { Ann::Index.open_shards([@paths[0], 5]) }.message)
    assert_raises(Ann::ArgumentError) { Ann::Index.open_shards(@paths[0]) }
  end
end
