# frozen_string_literal: true

require_relative 'test_helper'
require 'pathname'

# Saving and loading, in libann's format and Annoy's, for every metric.
class FilesTest < Minitest::Test
  def queries_of(index, data)
    queries = data.first(10).map { |v| index.get_nns_by_vector(v, 10, include_distances: true) }
    items = [0, 5, 17].map { |id| index.get_nns_by_item(id, 10, search_k: 200, include_distances: true) }
    vectors = [0, 1, 49].map { |id| index.get_item_vector(id) }
    [queries, items, vectors, index.n_items, index.n_trees, index.dim, index.metric]
  end

  Support::METRICS.each do |metric|
    define_method(:"test_#{metric}_round_trips_with_identical_results") do
      data = Support.dataset(metric, 50, metric == :hamming ? 70 : 6)
      index = Support.build(metric, data, n_trees: 5)
      Support.tmpdir do |dir|
        index.save(File.join(dir, 'i.ann')).save_annoy(File.join(dir, 'i.annoy'))
        expected = queries_of(index, data)
        Ann::Index.load(File.join(dir, 'i.ann')) { |loaded| assert_equal expected, queries_of(loaded, data) }
        Ann::Index.load_annoy(File.join(dir, 'i.annoy'), index.dim, metric.to_s, prefault: true) do |loaded|
          assert_equal expected, queries_of(loaded, data)
        end
      end
    end
  end

  def test_a_loaded_index_keeps_its_seed_and_describes_its_file
    index = Support.build(:dot, Support.dataset(:dot, 30, 4), n_trees: 3, seed: 99)
    Support.tmpdir do |dir|
      path = Pathname(dir) / 'dot.ann'
      index.save(path)
      index.save_annoy(Pathname(dir) / 'dot.annoy')
      info = Ann.file_info(path)
      assert_equal [:native, :dot, 4, 3, 30, 99, File.size(path)],
                   [info.kind, info.metric, info.dim, info.n_trees, info.n_items, info.seed, info.file_size]
      assert_equal 1, info.format_version
      assert_operator info.n_nodes, :>, 30
      annoy = Ann.file_info(Pathname(dir) / 'dot.annoy')
      assert_equal [:annoy, nil, 0, File.size(Pathname(dir) / 'dot.annoy')],
                   [annoy.kind, annoy.metric, annoy.dim, annoy.file_size]
      File.binwrite(Pathname(dir) / 'odd', 'abc')
      assert_equal :unknown, Ann.file_info(Pathname(dir) / 'odd').kind
      Ann::Index.load(path, prefault: true) { |loaded| assert_equal 99, loaded.seed }
    end
  end

  def test_save_replaces_a_file_atomically_for_processes_that_mapped_it
    first = Support.build(:euclidean, Support.dataset(:euclidean, 40, 3, seed: 1), n_trees: 2)
    second = Support.build(:euclidean, Support.dataset(:euclidean, 60, 3, seed: 2), n_trees: 2)
    Support.tmpdir do |dir|
      path = File.join(dir, 'shared.ann')
      first.save(path)
      Ann::Index.load(path) do |reader|
        second.save(path)
        assert_equal 40, reader.n_items # the old mapping stays valid
        assert_equal first.get_nns_by_item(0, 5), reader.get_nns_by_item(0, 5)
      end
      Ann::Index.load(path) { |reader| assert_equal 60, reader.n_items }
      assert_equal ['shared.ann'], Dir.children(dir)
    end
  end
end
