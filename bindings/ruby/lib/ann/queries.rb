# frozen_string_literal: true

require_relative 'convert'
require_relative 'native'
require_relative 'search_options'

module Ann
  # The nearest-neighbour queries of Ann::Index. Each holds the index's lock shared, so
  # queries run in parallel from many threads (FFI releases the GVL during them), and #close
  # waits for them.
  #
  # Each returns the keys, nearest first (largest inner product first for dot), or
  # `[keys, distances]` with `include_distances: true`. `search_k` is the number of candidates
  # to collect: larger gives better recall and slower queries; -1 means n * n_trees. On an
  # index with a graph (Ann::Index#build_graph) every query walks the graph instead, with a
  # beam width of `ef` (search* only), or else max(n, 32, search_k / 16).
  #
  # The get_nns_* queries keep Annoy's semantics. The search* queries take Ann::SearchOptions
  # (or the same settings as keywords and a block) and return exactly min(n, number of items
  # the filter accepts) results, every one accepted.
  module Queries
    # The `n` items nearest to `vector` (`dim` Numerics; 0/1 per bit for hamming).
    def get_nns_by_vector(vector, n, search_k: -1, include_distances: false)
      query = Convert.float_buffer(vector, dim)
      search_k = search_k_value(search_k)
      nearest(n, include_distances) do |index, width, ids, distances, count|
        Native.check(Native.ann_get_nns(index, query, width, search_k, ids, distances, count))
      end
    end

    # The `n` items nearest to item `key`; the item itself comes first for every metric but dot.
    def get_nns_by_item(key, n, search_k: -1, include_distances: false)
      key = Convert.key(key, 'id')
      search_k = search_k_value(search_k)
      nearest(n, include_distances) do |index, width, ids, distances, count|
        Native.check(Native.ann_get_nns_by_item(index, key, width, search_k, ids, distances, count))
      end
    end

    # Hamming only: the `n` items nearest to a query of ceil(dim / 64) packed 64-bit Integers.
    def get_nns_by_packed(words, n, search_k: -1, include_distances: false)
      words = Convert.words(words, n_words)
      query = Convert.word_buffer(words)
      search_k = search_k_value(search_k)
      nearest(n, include_distances) do |index, width, ids, distances, count|
        Native.check(Native.ann_get_nns_packed(index, query, words.size, width, search_k, ids, distances, count))
      end
    end

    # Queries many vectors at once on `n_threads` threads (-1: every core). Returns one key
    # Array per query (each as long as that query's results), or `[key_rows, distance_rows]`.
    def get_nns_by_vectors(vectors, n, search_k: -1, n_threads: -1, include_distances: false)
      queries, n_queries = query_rows(vectors)
      search_k = search_k_value(search_k)
      n_threads = Convert.integer(n_threads, 'n_threads', Convert::I32)
      batch(n_queries, n, include_distances) do |index, width, ids, distances, counts|
        Native.check(Native.ann_get_nns_batch(index, queries, n_queries, width, search_k, n_threads,
                                              ids, distances, counts))
      end
    end

    # The `n` items nearest to `vector` that the filter accepts: exactly min(n, accepted)
    # of them. The filter is `options` (an Ann::SearchOptions), or the keywords and the block
    # (`search_k:` -1 and `ef:` 0 by default, as in Ann::SearchOptions, `allow:`/`deny:` Arrays
    # of keys, the block a predicate on a key); both at once are an Ann::ArgumentError.
    # Without either, every item is accepted.
    #
    #   index.search(vector, 10, allow: keys)
    #   index.search(vector, 10) { |key| in_stock.include?(key) }
    #   index.search(vector, 10, ef: 200) # a wider beam, on an index with a graph
    def search(vector, n, options = nil, search_k: nil, ef: nil, allow: nil, deny: nil, include_distances: false,
               &filter)
      query = Convert.float_buffer(vector, dim)
      with_options(options, search_k, ef, allow, deny, filter) do |search_options|
        nearest(n, include_distances) do |index, width, ids, distances, count|
          run_search(search_options, foreign: false) do |pointer|
            Native.ann_search(index, query, width, pointer, ids, distances, count)
          end
        end
      end
    end

    # As #search, from item `key`'s vector (the item itself is returned too, if accepted).
    def search_by_item(key, n, options = nil, search_k: nil, ef: nil, allow: nil, deny: nil,
                       include_distances: false, &filter)
      key = Convert.key(key)
      with_options(options, search_k, ef, allow, deny, filter) do |search_options|
        nearest(n, include_distances) do |index, width, ids, distances, count|
          run_search(search_options, foreign: false) do |pointer|
            Native.ann_search_by_item(index, key, width, pointer, ids, distances, count)
          end
        end
      end
    end

    # As #search, for many vectors at once on `n_threads` threads (-1: every core), as
    # #get_nns_by_vectors returns them. A block runs on those threads (see Ann::SearchOptions).
    def search_batch(vectors, n, options = nil, search_k: nil, ef: nil, allow: nil, deny: nil, n_threads: -1,
                     include_distances: false, &filter)
      queries, n_queries = query_rows(vectors)
      n_threads = Convert.integer(n_threads, 'n_threads', Convert::I32)
      with_options(options, search_k, ef, allow, deny, filter) do |search_options|
        batch(n_queries, n, include_distances) do |index, width, ids, distances, counts|
          run_search(search_options, foreign: true) do |pointer|
            Native.ann_search_batch(index, queries, n_queries, width, pointer, n_threads, ids, distances, counts)
          end
        end
      end
    end

    private

    # Makes the output buffers for at most `n` results (never more than there are items),
    # holds the index shared, and yields to the block, which runs the query and raises on
    # failure.
    def nearest(n, include_distances)
      found = batch(1, n, include_distances) { |*args| yield(*args) }
      include_distances ? [found[0].first, found[1].first] : found.first
    end

    # As #nearest, for `n_queries` rows of results.
    def batch(n_queries, n, include_distances)
      n = Convert.unsigned(n, 'n')
      @handle.shared do |index|
        width = [n, Native.read(:ann_get_n_stored, :uint64, index)].min
        ids, distances, counts = result_buffers(n_queries, width, include_distances)
        yield(index, width, ids, distances, counts)
        found = rows(ids, distances, Native.read_sizes(counts, n_queries), width)
        include_distances ? found : found.first
      end
    end

    def search_k_value(search_k)
      Convert.integer(search_k, 'search_k', Convert::I64)
    end

    # `vectors` as one native buffer of rows, and the number of rows.
    def query_rows(vectors)
      raise ArgumentError, "vectors must be an Array of vectors, not #{vectors.class}" unless Convert.listish?(vectors)

      rows = vectors.to_a
      [Convert.float_rows(rows, dim), rows.size]
    end

    # Yields the Ann::SearchOptions of one call: `options`, or temporary ones made from the
    # keywords and the filter (closed when the block ends), or nil for the defaults.
    def with_options(options, search_k, ef, allow, deny, filter)
      given = !(search_k.nil? && ef.nil? && allow.nil? && deny.nil? && filter.nil?)
      if options
        raise ArgumentError, "options must be an Ann::SearchOptions, not #{options.class}" unless
          options.is_a?(SearchOptions)
        raise ArgumentError, 'pass an Ann::SearchOptions or search_k:, ef:, allow:, deny: and a block, not both' if
          given

        return yield(options)
      end
      return yield(nil) unless given

      temporary = SearchOptions.new(search_k: search_k || -1, ef: ef || 0, allow: allow, deny: deny, &filter)
      begin
        yield temporary
      ensure
        temporary.close
      end
    end

    # Runs a search (the block returns its ann_status) with `options` (nil: the defaults),
    # raising its error or the first exception its filter raised.
    def run_search(options, foreign:, &block)
      return Native.check(yield(nil)) unless options

      options.use(foreign: foreign, &block)
    end

    # Native buffers for `n_queries` rows of `width` results, and their counts.
    def result_buffers(n_queries, width, include_distances)
      slots = [n_queries * width, 1].max
      [FFI::MemoryPointer.new(:uint64, slots),
       include_distances ? FFI::MemoryPointer.new(:float, slots) : nil,
       FFI::MemoryPointer.new(:size_t, [n_queries, 1].max)]
    end

    # `[key_rows, distance_rows]` (distance_rows nil without distances), each row cut to its count.
    def rows(ids, distances, counts, width)
      id_rows = counts.each_with_index.map { |count, q| ids.get_array_of_uint64(q * width * 8, count) }
      distance_rows = distances && counts.each_with_index.map do |count, q|
        distances.get_array_of_float(q * width * 4, count)
      end
      [id_rows, distance_rows]
    end
  end
end
