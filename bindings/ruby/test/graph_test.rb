# frozen_string_literal: true

require_relative 'test_helper'

# Ann::Index#build_graph and #graph?, and the beam width `ef` of Ann::SearchOptions and the
# search* keywords: a graph finds the true neighbours, survives save and load, and bad
# arguments or states raise the usual error classes.
class GraphTest < Minitest::Test
  N = 2000
  DIM = 16
  N_QUERIES = 20
  EF = 200
  # Recall@10 at ef 200 of 2000 items measured 1.0 (0.945 at ef 10); a broken walk scores far
  # below.
  FLOOR = 0.95

  # Built once (forest of 5 trees, then the graph): the tests only read it.
  def self.shared
    @shared ||= begin
      data = Support.dataset(:angular, N, DIM, seed: 11)
      queries = Support.dataset(:angular, N_QUERIES, DIM, seed: 12)
      truth = queries.map { |query| Support.brute_force(:angular, data, query, 10) }
      index = Support.build(:angular, data, n_trees: 5, seed: 9)
      [index.build_graph, data, queries, truth]
    end
  end

  def setup
    @index, @data, @queries, @truth = self.class.shared
  end

  # Mean fraction of the true 10 nearest that `rows` (one id Array per query) found.
  def recall(rows)
    rows.zip(@truth).sum { |ids, truth| (ids & truth).size / 10.0 } / rows.size
  end

  def test_build_graph_adds_a_graph_and_returns_self
    index = Support.build(:angular, @data.first(300), n_trees: 5)
    refute index.graph?
    assert_same index, index.build_graph(degree: 16, n_threads: 2)
    assert index.graph?
    assert index.verify
    assert @index.graph?
    index.close
  end

  def test_ef_200_finds_the_true_nearest_neighbours
    options = Ann::SearchOptions.new(ef: EF)
    found = {
      'options' => @queries.map { |query| @index.search(query, 10, options) },
      'keyword' => @queries.map { |query| @index.search(query, 10, ef: EF) },
      'batch' => @index.search_batch(@queries, 10, options, n_threads: 2)
    }
    found.each { |how, rows| assert_operator recall(rows), :>=, FLOOR, how }
    assert_equal found['options'], found['keyword']
    assert_equal found['options'], found['batch']
    options.close
  end

  def test_search_k_alone_sets_the_beam_of_an_index_with_a_graph
    rows = @queries.map { |query| @index.get_nns_by_vector(query, 10, search_k: EF * 16) }
    assert_operator recall(rows), :>=, FLOOR
    assert_equal @queries.map { |query| @index.search(query, 10, ef: EF) }, rows
  end

  def test_a_saved_graph_loads_with_the_file_and_answers_the_same
    Support.tmpdir do |dir|
      path = File.join(dir, 'graph.ann')
      @index.save(path)
      Ann::Index.load(path) do |loaded|
        assert loaded.graph?
        @queries.each do |query|
          assert_equal @index.search(query, 10, ef: EF), loaded.search(query, 10, ef: EF)
          assert_equal @index.get_nns_by_vector(query, 10), loaded.get_nns_by_vector(query, 10)
        end
      end
    end
  end

  def test_one_seed_gives_the_same_graph_on_any_number_of_threads
    data = @data.first(500)
    found = [1, 3].map do |n_threads|
      index = Support.build(:angular, data, n_trees: 5).build_graph(n_threads: n_threads)
      @queries.map { |query| index.search(query, 10, ef: 20) }.tap { index.close }
    end
    assert_equal found[0], found[1]
  end

  def test_an_index_without_a_graph_ignores_ef
    index = Support.build(:angular, @data.first(500), n_trees: 5)
    refute index.graph?
    @queries.first(5).each do |query|
      assert_equal index.search(query, 10), index.search(query, 10, ef: EF)
    end
    index.close
  end

  def test_ef_in_search_options
    options = Ann::SearchOptions.new
    assert_equal 0, options.ef
    assert_equal '#<Ann::SearchOptions search_k=-1>', options.inspect
    options.ef = 64
    assert_equal 64, options.ef
    assert_equal '#<Ann::SearchOptions search_k=-1 ef=64>', options.inspect
    assert_raises(Ann::ArgumentError) { options.ef = -1 }
    assert_raises(Ann::ArgumentError) { options.ef = 1.5 }
    assert_equal 64, options.ef
    error = assert_raises(Ann::ArgumentError) { @index.search(@queries[0], 10, options, ef: 10) }
    assert_match(/not both/, error.message)
    options.close
    assert_raises(Ann::ClosedError) { options.ef = 1 }
  end

  def test_a_degree_above_256_is_an_argument_error
    index = Support.build(:angular, @data.first(100), n_trees: 2)
    error = assert_raises(Ann::ArgumentError) { index.build_graph(degree: 1000) }
    assert_equal :invalid_argument, error.status
    assert_match(/degree/, error.message)
    assert_raises(Ann::ArgumentError) { index.build_graph(n_threads: 0) }
    assert_raises(Ann::ArgumentError) { index.build_graph(degree: -1) }
    assert_raises(Ann::ArgumentError) { index.build_graph(degree: '32') }
    refute index.graph?
    index.close
  end

  def test_an_unbuilt_index_is_a_state_error
    index = Ann::Index.new(DIM, :angular)
    @data.first(10).each_with_index { |vector, id| index.add_item(id, vector) }
    error = assert_raises(Ann::StateError) { index.build_graph }
    assert_equal :invalid_state, error.status
    refute index.graph?
    index.close
    assert_raises(Ann::ClosedError) { index.graph? }
    assert_raises(Ann::ClosedError) { index.build_graph }
  end

  def test_shards_and_live_indexes_are_state_errors
    Support.tmpdir do |dir|
      path = File.join(dir, 'shard.ann')
      Support.build(:angular, @data.first(100), n_trees: 2).save(path).close
      Ann::Index.open_shards([path]) do |shards|
        assert_raises(Ann::StateError) { shards.build_graph }
      end
      Ann::Writer.open(File.join(dir, 'live'), DIM, :angular) do |writer|
        writer.upsert(1, @data[1])
        writer.index { |live| assert_raises(Ann::StateError) { live.build_graph } }
      end
    end
  end
end
