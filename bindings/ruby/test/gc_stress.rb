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

  # The filter's C function, the native key lists and the options stay alive while libann
  # uses them, whether the block runs on this thread or on the threads of a batch search;
  # forgotten options are freed by their AutoPointer.
  def test_filtered_searches_and_sparse_keys_under_gc_stress
    data = Support.dataset(:euclidean, 12, 3, seed: 4)
    keys = Array.new(12) { |i| (2**40) + (i * 3) }
    found = stressed do
      index = Ann::Index.new(3, :euclidean)
      keys.zip(data) { |key, vector| index.add_item(key, vector) }
      index.build(2)
      odd = Ann::SearchOptions.new(deny: keys.first(2)) { |key| key.odd? }
      [index.search(data[5], 3, allow: keys.last(4), include_distances: true),
       index.search(data[5], 20, odd),
       index.search_batch(data.first(2), 2, odd, n_threads: 2),
       index.search_by_item(keys[7], 2) { |key| key != keys[7] },
       error_of { index.search_batch(data.first(1), 1, n_threads: 2) { raise Ann::StateError, 'from the block' } },
       index.get_item_vector(keys[11])]
    end
    assert_equal 3, found[0][0].size
    assert_empty found[0][0] - keys.last(4)
    assert_equal keys.drop(2).select(&:odd?).sort, found[1].sort
    assert(found[2].all? { |row| row.size == 2 && row.all?(&:odd?) })
    refute_includes found[3], keys[7]
    assert_equal 'from the block', found[4].message
    assert_equal data[11].map { |x| Support.f32(x) }, found[5]
  end

  # The writer's handle, its options (freed once it is open), the key and vector buffers of
  # every write, and the read handles stay alive while libann uses them; a forgotten read
  # handle is freed by its AutoPointer.
  def test_a_live_index_under_gc_stress
    data = Support.dataset(:euclidean, 8, 3, seed: 5)
    Support.tmpdir do |dir|
      live = File.join(dir, 'live')
      found = stressed do
        Ann::Writer.open(live, 3, :euclidean, durability: :timer, flush_ms: 5, n_trees: 2) do |writer|
          writer.upsert_batch((0...6).to_a, data.first(6)).upsert(2**40, data[6])
          reader = Ann::Index.open(live)
          deleted = [writer.delete(1), writer.delete_batch([2, 3, 99])]
          writer.compact(n_threads: 2)
          writer.sync.index.search(data[0], 3) # a read handle left to the garbage collector
          [deleted, writer.index { |index| index.search(data[6], 10, include_distances: true) },
           reader.refresh, reader.search(data[6], 2), error_of { writer.upsert(7, [Float::NAN] * 3) }]
        end
      end
      assert_equal [true, 2], found[0]
      assert_equal [2**40, 0, 4, 5].sort, found[1][0].sort
      assert_equal 0.0, found[1][1][0]
      assert_equal [true, 2**40], [found[2], found[3][0]]
      assert_instance_of Ann::ArgumentError, found[4]
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
