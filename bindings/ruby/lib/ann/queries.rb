# frozen_string_literal: true

require_relative 'convert'
require_relative 'native'

module Ann
  # The nearest-neighbour queries of Ann::Index. Each holds the index's lock shared, so
  # queries run in parallel from many threads (FFI releases the GVL during them), and #close
  # waits for them.
  #
  # Each returns the ids, nearest first (largest inner product first for dot), or
  # `[ids, distances]` with `include_distances: true`. `search_k` is the number of candidates
  # to collect: larger gives better recall and slower queries; -1 means n * n_trees.
  module Queries
    # The `n` items nearest to `vector` (`dim` Numerics; 0/1 per bit for hamming).
    def get_nns_by_vector(vector, n, search_k: -1, include_distances: false)
      query = Convert.float_buffer(vector, dim)
      nearest(n, search_k, include_distances) do |index, width, ids, distances, count|
        Native.ann_get_nns(index, query, width, search_k, ids, distances, count)
      end
    end

    # The `n` items nearest to item `id`; the item itself comes first for every metric but dot.
    def get_nns_by_item(id, n, search_k: -1, include_distances: false)
      id = Convert.unsigned(id, 'id')
      nearest(n, search_k, include_distances) do |index, width, ids, distances, count|
        Native.ann_get_nns_by_item(index, id, width, search_k, ids, distances, count)
      end
    end

    # Hamming only: the `n` items nearest to a query of ceil(dim / 64) packed 64-bit Integers.
    def get_nns_by_packed(words, n, search_k: -1, include_distances: false)
      words = Convert.words(words, n_words)
      query = Convert.word_buffer(words)
      nearest(n, search_k, include_distances) do |index, width, ids, distances, count|
        Native.ann_get_nns_packed(index, query, words.size, width, search_k, ids, distances, count)
      end
    end

    # Queries many vectors at once on `n_threads` threads (-1: every core). Returns one id
    # Array per query (each as long as that query's results), or `[id_rows, distance_rows]`.
    def get_nns_by_vectors(vectors, n, search_k: -1, n_threads: -1, include_distances: false)
      raise ArgumentError, "vectors must be an Array of vectors, not #{vectors.class}" unless vectors.respond_to?(:to_a)

      rows = vectors.to_a
      batch(Convert.float_rows(rows, dim), rows.size, n, search_k, n_threads, include_distances)
    end

    private

    # Checks the common arguments, makes the output buffers, and runs the query the block
    # makes, sized to at most n_items results (never more than there are item slots).
    def nearest(n, search_k, include_distances)
      n = Convert.unsigned(n, 'n')
      search_k = Convert.integer(search_k, 'search_k', -Convert::I64_MAX - 1..Convert::I64_MAX)
      @handle.shared do |index|
        width = [n, Native.read(:ann_get_n_items, :uint64, index)].min
        ids, distances, counts = result_buffers(1, width, include_distances)
        Native.check(yield(index, width, ids, distances, counts))
        id_rows, distance_rows = rows(ids, distances, Native.read_sizes(counts, 1), width)
        include_distances ? [id_rows.first, distance_rows.first] : id_rows.first
      end
    end

    def batch(queries, n_queries, n, search_k, n_threads, include_distances)
      n = Convert.unsigned(n, 'n')
      search_k = Convert.integer(search_k, 'search_k', -Convert::I64_MAX - 1..Convert::I64_MAX)
      n_threads = Convert.integer(n_threads, 'n_threads', Convert::I32)
      @handle.shared do |index|
        width = [n, Native.read(:ann_get_n_items, :uint64, index)].min
        ids, distances, counts = result_buffers(n_queries, width, include_distances)
        Native.check(Native.ann_get_nns_batch(index, queries, n_queries, width, search_k, n_threads,
                                              ids, distances, counts))
        found = rows(ids, distances, Native.read_sizes(counts, n_queries), width)
        include_distances ? found : found.first
      end
    end

    # Native buffers for `n_queries` rows of `width` results, and their counts.
    def result_buffers(n_queries, width, include_distances)
      slots = [n_queries * width, 1].max
      [FFI::MemoryPointer.new(:uint64, slots),
       include_distances ? FFI::MemoryPointer.new(:float, slots) : nil,
       FFI::MemoryPointer.new(:size_t, [n_queries, 1].max)]
    end

    # `[id_rows, distance_rows]` (distance_rows nil without distances), each row cut to its count.
    def rows(ids, distances, counts, width)
      id_rows = counts.each_with_index.map { |count, q| ids.get_array_of_uint64(q * width * 8, count) }
      distance_rows = distances && counts.each_with_index.map do |count, q|
        distances.get_array_of_float(q * width * 4, count)
      end
      [id_rows, distance_rows]
    end
  end
end
