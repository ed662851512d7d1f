# frozen_string_literal: true

require_relative 'test_helper'

# Threads sharing one index: parallel queries agree with sequential ones, and closing or
# changing the index while queries run is an error for those queries, never a crash.
class ConcurrencyTest < Minitest::Test
  def setup
    @data = Support.dataset(:euclidean, 2000, 16)
    @index = Support.build(:euclidean, @data)
  end

  def teardown
    @index.close
  end

  def test_threads_querying_one_index_get_the_sequential_results
    queries = @data.first(40)
    expected = queries.map { |q| @index.get_nns_by_vector(q, 10, search_k: 500, include_distances: true) }
    expected_items = (0...40).map { |id| @index.get_nns_by_item(id, 10) }
    threads = Array.new(4) do
      Thread.new do
        Array.new(5) do
          [queries.map { |q| @index.get_nns_by_vector(q, 10, search_k: 500, include_distances: true) },
           (0...40).map { |id| @index.get_nns_by_item(id, 10) }]
        end
      end
    end
    threads.map(&:value).flatten(1).each do |found, items|
      assert_equal expected, found
      assert_equal expected_items, items
    end
  end

  def test_close_waits_for_running_queries_and_later_ones_raise
    started = Queue.new
    threads = Array.new(4) do |t|
      Thread.new do
        count = 0
        loop do
          @index.get_nns_by_vectors(@data.first(8), 10, search_k: 2000, n_threads: 1)
          @index.get_nns_by_item(t, 10)
          count += 1
          started << true if count == 1
        end
      rescue Ann::ClosedError
        count
      end
    end
    4.times { started.pop }
    @index.close
    counts = threads.map(&:value)
    assert(counts.all?(&:positive?), counts.inspect)
    assert @index.closed?
  end

  def test_changes_wait_for_queries_and_queries_see_a_consistent_index
    errors = Queue.new
    readers = Array.new(3) do
      Thread.new do
        200.times do
          ids = @index.get_nns_by_vector(@data[0], 5)
          errors << ids unless ids.empty? || ids.first.zero?
        rescue Ann::StateError
          nil # caught between unbuild and build: an error, as documented
        end
      end
    end
    5.times do
      @index.unbuild
      @index.build(5)
    end
    readers.each(&:join)
    assert_predicate errors, :empty?
    assert_equal 0, @index.get_nns_by_vector(@data[0], 1).first
  end

  # Records when ann_get_nns_batch is entered and left, around the C call itself.
  module TimedBatch
    attr_reader :batch_times

    def ann_get_nns_batch(*args)
      started = Process.clock_gettime(Process::CLOCK_MONOTONIC)
      status = super
      @batch_times = [started, Process.clock_gettime(Process::CLOCK_MONOTONIC)]
      status
    end
  end
  Ann::Native.singleton_class.prepend(TimedBatch)

  # While one thread is inside a long query, another Ruby thread runs: some of its time stamps
  # fall inside the C call. Were the GVL held during the call, none could.
  def test_the_gvl_is_released_during_queries
    slow = Support.build(:euclidean, Support.dataset(:euclidean, 20_000, 32, seed: 9), n_trees: 20)
    queries = Support.dataset(:euclidean, 200, 32, seed: 8)
    worker = Thread.new { slow.get_nns_by_vectors(queries, 10, search_k: 50_000, n_threads: 1) }
    stamps = []
    while worker.alive?
      stamps << Process.clock_gettime(Process::CLOCK_MONOTONIC)
      sleep 0.001
    end
    worker.join
    slow.close
    started, ended = Ann::Native.batch_times
    assert_operator ended - started, :>, 0.05, 'the query was too short to tell'
    # The first half only: right after the call returns, before the worker's next stamp, a
    # pending thread switch may run this thread once even when the GVL was held.
    middle = (started + ended) / 2
    assert(stamps.any? { |t| t > started && t < middle }, 'no Ruby thread ran during the query: the GVL was held')
  end
end
