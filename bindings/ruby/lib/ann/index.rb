# frozen_string_literal: true

require_relative 'convert'
require_relative 'handle'
require_relative 'metrics'
require_relative 'native'
require_relative 'queries'

module Ann
  # An approximate nearest-neighbour index over libann: a forest of random-projection trees,
  # built in memory or read from a memory-mapped file that processes share.
  #
  #   index = Ann::Index.new(3, :angular)
  #   index.add_item(0, [1.0, 0.0, 0.0])
  #   index.build(10)
  #   index.get_nns_by_vector([0.9, 0.1, 0.0], 1) # => [0]
  #
  # Ann::Index.open also opens a live index directory (see Ann::Writer), and Ann::Writer#index
  # gives one that sees the writer's writes at once; both are read-only.
  #
  # Keys (item ids) are Integers from 0 to 2**64 - 2: dense ones, as in Annoy, or sparse
  # ones such as 2**40 or hashes; memory grows with the number of items, not the largest key.
  #
  # Queries may run from many threads at once (the GVL is released during them). Calls that
  # change the index wait for running queries, and #close frees the native index at once; it
  # is also freed when the object is garbage-collected. Every failure raises an Ann::Error.
  class Index
    include Queries

    # Creates an empty index for vectors of `dim` values (bits, for hamming). `metric` is a
    # Symbol or String: angular (or cosine), euclidean, manhattan, dot or hamming.
    def initialize(dim, metric)
      code = Metrics.code(metric)
      adopt(Handle.create(:ann_new, Convert.integer(dim, 'dim', 0..Convert::U32_MAX), code))
    end

    class << self
      # Memory-maps an index file written by #save: O(1), the header alone is checked (see
      # #verify). `prefault: true` reads the whole file in now. With a block, yields the index,
      # closes it afterwards and returns the block's value.
      def load(path, prefault: false, &block)
        wrap(Handle.create(:ann_load, Convert.path(path), prefault ? true : false), &block)
      end

      # Opens `path` read-only: an index file (as #load), or a live index directory that an
      # Ann::Writer writes, read without a lock. A directory shows every write acknowledged
      # before the open; #refresh catches up with later ones. Adding, building and saving raise
      # Ann::StateError (#export writes a file). Takes a block as #load does.
      def open(path, prefault: false, &block)
        wrap(Handle.create(:ann_open, Convert.path(path), prefault ? true : false), &block)
      end

      # Memory-maps a header-less file written by Annoy 1.17.3 (or by #save_annoy). Such files
      # do not record their dimension and metric: pass the ones the file was built with.
      def load_annoy(path, dim, metric, prefault: false, &block)
        dim = Convert.integer(dim, 'dim', 0..Convert::U32_MAX)
        wrap(Handle.create(:ann_load_annoy, Convert.path(path), dim, Metrics.code(metric), prefault ? true : false),
             &block)
      end

      # Memory-maps several files written by #save (one metric and dimension, no key in two
      # of them) as one read-only index: every query searches every shard and merges the
      # results as one index holding all the items would order them (by distance, ties to
      # the smaller key). #n_items is the largest key + 1 over the shards, #n_stored and
      # #n_trees their sums; adding, building and saving raise Ann::StateError. Opening reads
      # every shard's keys, to check that none repeats. Takes a block as #load does.
      def open_shards(paths, prefault: false, &block)
        unless Convert.listish?(paths) && !paths.is_a?(String)
          raise ArgumentError, "paths must be an Array of paths, not #{paths.class}"
        end

        strings = paths.to_a.each_with_index.map do |path, i|
          FFI::MemoryPointer.from_string(Convert.path(path, "paths[#{i}]"))
        end
        array = FFI::MemoryPointer.new(:pointer, [strings.size, 1].max)
        array.put_array_of_pointer(0, strings)
        wrap(Handle.create(:ann_open_shards, array, strings.size, prefault ? true : false), &block)
      end

      private

      def wrap(handle)
        index = allocate
        index.send(:adopt, handle)
        return index unless block_given?

        begin
          yield index
        ensure
          index.close
        end
      end
    end

    # Floats per vector, or bits for hamming.
    attr_reader :dim

    # The metric as a Symbol (:angular, :euclidean, :manhattan, :dot or :hamming).
    attr_reader :metric

    # Adds, or replaces, item `id`, a key from 0 to 2**64 - 2 (2**64 - 1 is reserved), with
    # `vector`: `dim` Numerics (0/1 per bit for hamming, values above 0.5 being 1). #n_items
    # becomes the largest key plus 1 and #n_stored counts the items. Returns self.
    #
    # Keys up to 2**31 - 2 that fill at least half of 0..largest are kept in Annoy's layout
    # (keys never added are holes that queries skip, and #save_annoy works); other key sets
    # are stored compactly, with a keys section, and #save_annoy refuses them.
    def add_item(id, vector)
      id = Convert.key(id, 'id')
      buffer = Convert.float_buffer(vector, dim)
      @handle.exclusive { |index| Native.check(Native.ann_add_item(index, id, buffer)) }
      self
    end

    # Hamming only: adds item `id` from ceil(dim / 64) packed 64-bit Integers, where bit j of
    # word i is bit 64 * i + j. Returns self.
    def add_item_packed(id, words)
      id = Convert.key(id, 'id')
      words = Convert.words(words, n_words)
      buffer = Convert.word_buffer(words)
      @handle.exclusive { |index| Native.check(Native.ann_add_item_packed(index, id, buffer, words.size)) }
      self
    end

    # The seed of the next build, or the one a loaded index was built with.
    def seed
      @handle.shared { |index| Native.read(:ann_get_seed, :uint64, index) }
    end

    # Sets the seed of the next build: one seed always gives the same index, whatever the
    # number of threads. Negative values wrap to 64 bits.
    def seed=(value)
      value = Convert.seed(value)
      @handle.exclusive { |index| Native.check(Native.ann_set_seed(index, value)) }
    end

    # Builds `n_trees` trees (-1: until there are twice as many nodes as items) on `n_threads`
    # threads (-1: every core). More trees give better recall and a larger file. Returns self.
    def build(n_trees, n_threads: -1)
      n_trees = Convert.integer(n_trees, 'n_trees', Convert::I32)
      n_threads = Convert.integer(n_threads, 'n_threads', Convert::I32)
      mutate { |index| Native.ann_build(index, n_trees, n_threads) }
    end

    # Adds a proximity graph over the items of a built or loaded index: every query then walks
    # it instead of the forest (faster for the same recall; Ann::SearchOptions#ef sets its
    # beam width), #save writes it into the file and #load maps it. `degree` is the most
    # neighbours per item: 0 picks the default (32), up to 256. `n_threads`: -1 uses every
    # core; one seed gives the same graph whatever the thread count. Replaces an earlier
    # graph; #save_annoy still writes the forest only. Raises Ann::ArgumentError for a degree
    # above 256, and Ann::StateError before #build, and for shards and live indexes (build it
    # on each file, or on an exported one). Returns self.
    def build_graph(degree: 0, n_threads: -1)
      degree = Convert.integer(degree, 'degree', 0..Convert::U32_MAX)
      n_threads = Convert.integer(n_threads, 'n_threads', Convert::I32)
      mutate { |index| Native.ann_build_graph(index, degree, n_threads) }
    end

    # Whether the index has a graph (#build_graph, or a file saved with one).
    def graph?
      out = FFI::MemoryPointer.new(:bool)
      @handle.shared { |index| Native.check(Native.ann_has_graph(index, out)) }
      out.read(:bool)
    end

    # Drops the trees but keeps the items, so more can be added before building again.
    def unbuild
      mutate { |index| Native.ann_unbuild(index) }
    end

    # Releases the memory or file mapping; the index is empty again, ready for new items.
    def unload
      mutate { |index| Native.ann_unload(index) }
    end

    # Builds straight into the file at `path` instead of into memory, for indexes larger than
    # RAM. Call it before #build; #build then finishes the file and maps it. Returns self.
    def on_disk_build(path)
      path = Convert.path(path)
      mutate { |index| Native.ann_on_disk_build(index, path) }
    end

    # Saves the built index to `path`, atomically (a temporary file renamed over `path`).
    # The index itself stays as it is. Returns self.
    def save(path)
      path = Convert.path(path)
      @handle.shared { |index| Native.check(Native.ann_save(index, path)) }
      self
    end

    # Saves the header-less form that Annoy 1.17.3 loads (dimension, metric and seed are not
    # recorded in it). Raises Ann::StateError for keys that do not fit Annoy's layout (see
    # #add_item). Returns self.
    def save_annoy(path)
      path = Convert.path(path)
      @handle.shared { |index| Native.check(Native.ann_save_annoy(index, path)) }
      self
    end

    # Brings an index opened on a live directory (see ::open) up to date: the writes logged
    # since, or the new segment after a compaction. Returns true when anything changed.
    # It runs alongside queries in other threads (libann allows it), which finish on the
    # state they started with. For other indexes it returns false: files, shards and indexes
    # built in memory never change, and a writer's #index is always up to date.
    def refresh
      changed = FFI::MemoryPointer.new(:bool)
      @handle.shared { |index| Native.check(Native.ann_refresh(index, changed)) }
      changed.read(:bool)
    end

    # Writes every item into one new immutable index file at `path`, atomically, which #load
    # and ::open map: the live items of a live index, compacted (a fresh build with the
    # writer's n_trees), every shard's items, or a built index as it is. Returns self.
    def export(path)
      path = Convert.path(path)
      @handle.shared { |index| Native.check(Native.ann_export(index, path)) }
      self
    end

    # Checks the whole index: the body checksum, then every tree. Returns true, or raises
    # Ann::CorruptFileError saying what is damaged.
    def verify
      @handle.shared { |index| Native.check(Native.ann_verify(index)) }
      true
    end

    # The largest key added, plus 1 (0 when empty): Annoy's n_items for dense keys, keys
    # never added included. #n_stored counts the items.
    def n_items
      @handle.shared { |index| Native.read(:ann_get_n_items, :uint64, index) }
    end

    # The number of items stored, each key counted once.
    def n_stored
      @handle.shared { |index| Native.read(:ann_get_n_stored, :uint64, index) }
    end

    # The number of trees (0 before #build).
    def n_trees
      @handle.shared { |index| Native.read(:ann_get_n_trees, :uint32, index) }
    end

    # Item `id`'s vector as `dim` Floats (0.0/1.0 for hamming), as stored: in float32.
    def get_item_vector(id)
      id = Convert.key(id, 'id')
      out = FFI::MemoryPointer.new(:float, dim)
      @handle.shared { |index| Native.check(Native.ann_get_item_vector(index, id, out)) }
      out.get_array_of_float(0, dim)
    end

    # Hamming only: item `id`'s vector as ceil(dim / 64) packed 64-bit Integers.
    def get_item_packed(id)
      id = Convert.key(id, 'id')
      out = FFI::MemoryPointer.new(:uint64, n_words)
      count = FFI::MemoryPointer.new(:size_t)
      @handle.shared { |index| Native.check(Native.ann_get_item_packed(index, id, out, n_words, count)) }
      out.get_array_of_uint64(0, Native.read_size(count))
    end

    # The distance between items `i` and `j`, as a query reports it.
    def get_distance(i, j)
      i = Convert.key(i, 'i')
      j = Convert.key(j, 'j')
      out = FFI::MemoryPointer.new(:float)
      @handle.shared { |index| Native.check(Native.ann_get_distance(index, i, j, out)) }
      out.read_float
    end

    # Frees the native index now (memory, file mapping), after the calls running in other
    # threads finish. Later calls raise Ann::ClosedError. Closing twice is fine.
    def close
      @handle.close
    end

    def closed?
      @handle.closed?
    end

    def inspect
      state = closed? ? 'closed' : "n_items=#{n_items} n_trees=#{n_trees}"
      "#<#{self.class} dim=#{dim} metric=#{metric} #{state}>"
    end

    private

    # Takes `handle`, reading the dimension and metric once: they never change for a handle.
    def adopt(handle)
      @handle = handle
      @dim, code = handle.shared do |index|
        [Native.read(:ann_get_dim, :uint32, index), Native.read(:ann_get_metric, :uint32, index)]
      end
      @metric = Metrics.name(code)
    end

    # Runs a C call that changes the index, with exclusive access, and returns self.
    def mutate
      @handle.exclusive { |index| Native.check(yield(index)) }
      self
    end

    # Packed words per vector, for hamming.
    def n_words
      (dim + 63) / 64
    end
  end
end
