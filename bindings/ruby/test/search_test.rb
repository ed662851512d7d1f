# frozen_string_literal: true

require_relative 'test_helper'
require 'set'

# Filtered search: exactly min(n, accepted) results, all accepted, whether the filter is an
# allow-list, a deny-list or a block; blocks called from libann's threads; errors raised in a
# block; Ann::SearchOptions' lifetime.
class SearchTest < Minitest::Test
  N = 2000
  DIM = 8

  # Built once: the tests only read it.
  def self.shared
    @shared ||= begin
      data = Support.dataset(:euclidean, N, DIM, seed: 21)
      keys = Array.new(N) { |i| (i * 7919) + (2**33) } # sparse keys
      index = Ann::Index.new(DIM, :euclidean)
      keys.zip(data) { |key, vector| index.add_item(key, vector) }
      index.seed = 5
      [index.build(8), keys, data]
    end
  end

  def setup
    @index, @keys, @data = self.class.shared
    @queries = [@data[17], Support.dataset(:euclidean, 1, DIM, seed: 99).first]
  end

  # The accepted key sets: 1 item, 0.1%, 10% and 100% of the items.
  def selections
    random = Random.new(4)
    { 'one item' => [@keys[1234]], '0.1%' => @keys.sample(N / 1000, random: random),
      '10%' => @keys.sample(N / 10, random: random), '100%' => @keys }
  end

  # Checks one result: min(n, accepted) distinct accepted keys, nearest first, and all of the
  # accepted keys when there are no more than n.
  def assert_filtered(accepted, n, found, what)
    ids, distances = found
    assert_equal [n, accepted.size].min, ids.size, "#{what}: count"
    assert_equal ids.size, ids.uniq.size, "#{what}: repeated keys"
    assert ids.all? { |id| accepted.include?(id) }, "#{what}: a key outside the filter"
    assert_equal distances.sort, distances, "#{what}: not nearest first"
    assert_equal accepted.sort, ids.sort, "#{what}: not every accepted key" if n >= accepted.size
  end

  def test_every_selectivity_returns_exactly_min_n_accepted_for_each_kind_of_filter
    selections.each do |name, chosen|
      accepted = chosen.to_set
      denied = @keys.reject { |k| accepted.include?(k) }
      [10, chosen.size + 5].uniq.each do |n|
        @queries.each_with_index do |query, q|
          what = "#{name}, n=#{n}, query #{q}"
          assert_filtered accepted, n, @index.search(query, n, allow: chosen, include_distances: true), "#{what}, allow"
          assert_filtered accepted, n, @index.search(query, n, deny: denied, include_distances: true), "#{what}, deny"
          found = @index.search(query, n, include_distances: true) { |key| accepted.include?(key) }
          assert_filtered accepted, n, found, "#{what}, block"
        end
      end
    end
  end

  def test_by_item_and_batch_forms_filter_too
    chosen = selections['10%']
    accepted = chosen.to_set
    options = Ann::SearchOptions.new(allow: chosen)
    start = chosen.first
    ids, distances = @index.search_by_item(start, 15, options, include_distances: true)
    assert_equal start, ids.first
    assert_equal 0.0, distances.first
    assert_filtered accepted, 15, [ids, distances], 'by item'
    rows, distance_rows = @index.search_batch(@queries, 12, options, n_threads: 2, include_distances: true)
    rows.zip(distance_rows).each { |row| assert_filtered accepted, 12, row, 'batch' }
    assert_equal @queries.map { |query| @index.search(query, 12, options) }, @index.search_batch(@queries, 12, options)
    options.close
  end

  def test_the_block_runs_on_librarys_threads_in_batch_searches
    callers = Set.new
    mutex = Thread::Mutex.new
    queries = Support.dataset(:euclidean, 6, DIM, seed: 7)
    rows = @index.search_batch(queries, 10, n_threads: 3) do |key|
      mutex.synchronize { callers << Thread.current }
      (key % 3).zero?
    end
    multiples = @keys.select { |k| (k % 3).zero? }.to_set
    rows.each { |row| assert_filtered multiples, 10, [row, Array.new(row.size, 0)], 'batch block' }
    refute_includes callers, Thread.current # called from the threads libann made, through ffi
    assert_equal queries.map { |query| @index.search(query, 10) { |key| (key % 3).zero? } }, rows
  end

  def test_options_shared_by_threads_searching_at_once
    options = Ann::SearchOptions.new(search_k: 500) { |key| key.even? }
    expected = @queries.map { |query| @index.search(query, 10, options) }
    batch_expected = @index.search_batch(@queries, 10, options, n_threads: 2)
    threads = Array.new(3) do |t|
      Thread.new do
        Array.new(3) do
          next @index.search_batch(@queries, 10, options, n_threads: 2) if t.zero?

          @queries.map { |query| @index.search(query, 10, options) }
        end
      end
    end
    threads.each_with_index do |thread, t|
      thread.value.each { |found| assert_equal t.zero? ? batch_expected : expected, found }
    end
    options.close
  end

  def test_an_exception_in_the_block_refuses_the_key_and_is_raised_after_the_search
    calls = 0
    error = assert_raises(KeyError) do
      @index.search(@queries[0], 5) do |key|
        calls += 1
        raise KeyError, "no #{key}"
      end
    end
    assert_match(/\Ano \d+\z/, error.message)
    assert_equal 1, calls # the search refused its other keys without calling the block again
    error = assert_raises(ZeroDivisionError) do
      @index.search_batch(@queries, 5, n_threads: 2) do |key|
        1 / 0 if key == @keys[17]
        true
      end
    end
    assert_match(/divided by 0/, error.message)
    # The index and reusable options still work, and a later search is not blamed.
    failing = true
    options = Ann::SearchOptions.new { |_key| failing ? raise('boom') : true }
    assert_raises(RuntimeError) { @index.search(@queries[0], 3, options) }
    assert_raises(RuntimeError) { @index.search_batch(@queries, 3, options, n_threads: 2) }
    failing = false
    assert_equal 3, @index.search(@queries[1], 3, options).size
    assert_equal [3, 3], @index.search_batch(@queries, 3, options, n_threads: 2).map(&:size)
    options.filter = ->(key) { key != @keys[17] }
    refute_includes @index.search(@queries[0], 3, options), @keys[17]
    options.close
  end

  def test_the_block_may_query_the_index_it_filters
    positive = ->(key) { @index.get_item_vector(key).first.positive? }
    found = @index.search(@queries[0], 5, &positive)
    assert_equal 5, found.size
    assert(found.all?(&positive))
    rows = @index.search_batch(@queries, 5, n_threads: 2, &positive)
    assert(rows.all? { |row| row.size == 5 && row.all?(&positive) })
  end

  def test_break_return_and_throw_in_the_block_are_stopped_and_reported
    error = assert_raises(LocalJumpError) { @index.search(@queries[0], 3) { break } }
    assert_match(/break, return or throw/, error.message)
    assert_raises(LocalJumpError) { catch(:out) { @index.search(@queries[0], 3) { throw :out } } }
    assert_raises(LocalJumpError) { @index.search_batch(@queries, 3, n_threads: 2) { break } }
    assert_equal 3, @index.search(@queries[0], 3) { |key| next key.odd? }.size
  end

  def test_search_options_settings
    options = Ann::SearchOptions.new
    assert_equal '#<Ann::SearchOptions search_k=-1>', options.inspect
    assert_nil options.filter
    options.search_k = 10_000
    options.deny = @keys.first(1000)
    options.allow = Set.new(@keys.first(1010))
    assert_equal @keys[1000...1010].sort, @index.search(@queries[0], 50, options).sort
    options.deny = nil # no deny-list again
    assert_equal 20, @index.search(@queries[0], 20, options).size
    options.allow = [] # accepts nothing
    assert_equal [], @index.search(@queries[0], 20, options)
    options.filter = proc { true }
    assert_equal '#<Ann::SearchOptions search_k=10000 allow=0 keys filter>', options.inspect
    error = assert_raises(Ann::StateError) { options.allow = nil }
    assert_match(/cannot remove an allow-list/, error.message)
    options.close
    assert_nil Ann::SearchOptions.new(deny: []).tap(&:close).filter
  end

  def test_search_without_filter_agrees_with_get_nns_when_search_k_covers_everything
    k = N * 8 * 4
    @queries.each do |query|
      assert_equal @index.get_nns_by_vector(query, 10, search_k: k, include_distances: true),
                   @index.search(query, 10, search_k: k, include_distances: true)
      exact = Support.brute_force(:euclidean, @data, query, 10).map { |i| @keys[i] }
      assert_equal exact, @index.search(query, 10, search_k: k)
    end
    assert_equal @index.get_nns_by_item(@keys[3], 7, search_k: k), @index.search_by_item(@keys[3], 7, search_k: k)
  end

  def test_bad_arguments
    options = Ann::SearchOptions.new
    error = assert_raises(Ann::ArgumentError) { @index.search(@queries[0], 3, options, search_k: 10) }
    assert_match(/not both/, error.message)
    assert_raises(Ann::ArgumentError) { @index.search(@queries[0], 3, options) { true } }
    assert_raises(Ann::ArgumentError) { @index.search(@queries[0], 3, { search_k: 10 }) }
    assert_raises(Ann::ArgumentError) { @index.search(@queries[0], 3, search_k: -2) }
    assert_raises(Ann::ArgumentError) { Ann::SearchOptions.new(search_k: -5) }
    assert_raises(Ann::ArgumentError) { Ann::SearchOptions.new(search_k: 1.5) }
    assert_match(/Integer keys, not String/, assert_raises(Ann::ArgumentError) { options.allow = [1, '2'] }.message)
    assert_match(/holds -1/, assert_raises(Ann::ArgumentError) { options.deny = [5, -1] }.message)
    assert_match(/reserved/, assert_raises(Ann::ArgumentError) { options.allow = [(2**64) - 1] }.message)
    assert_raises(Ann::ArgumentError) { options.allow = 5 }
    assert_raises(Ann::ArgumentError) { options.filter = 5 }
    assert_raises(Ann::ArgumentError) { @index.search([1, 2], 3) }
    assert_raises(Ann::ArgumentError) { @index.search_by_item(-1, 3) }
    assert_raises(Ann::ArgumentError) { @index.search_batch(@queries, 3, n_threads: 0) }
    assert_equal [], @index.search(@queries[0], 0, options)
    assert_equal [[], []], @index.search_batch([], 3, options, include_distances: true)
    options.close
  end

  def test_options_after_close_are_an_error_never_a_crash
    options = Ann::SearchOptions.new(search_k: 100) { true }
    assert_nil options.close
    assert_nil options.close
    assert options.closed?
    assert_equal '#<Ann::SearchOptions closed>', options.inspect
    [-> { @index.search(@queries[0], 3, options) }, -> { @index.search_by_item(@keys[0], 3, options) },
     -> { @index.search_batch(@queries, 3, options) }, -> { options.search_k = 5 }, -> { options.allow = [1] },
     -> { options.deny = nil }, -> { options.filter = nil }].each do |call|
      error = assert_raises(Ann::ClosedError, &call)
      assert_match(/search options are closed/, error.message)
    end
  end

  def test_close_waits_for_searches_using_the_options
    options = Ann::SearchOptions.new { |_key| true }
    started = Queue.new
    searcher = Thread.new do
      count = 0
      loop do
        @index.search(@queries[0], 10, options)
        count += 1
        started << true if count == 1
      end
    rescue Ann::ClosedError
      count
    end
    started.pop
    options.close
    assert_operator searcher.value, :>=, 1
  end

  def test_forgotten_options_are_freed_by_the_garbage_collector
    20.times { |i| Ann::SearchOptions.new(allow: @keys.first(i + 1)) { |key| key.positive? } }
    GC.start
    assert_equal 10, @index.search(@queries[0], 10) { |key| key.positive? }.size
  end
end
