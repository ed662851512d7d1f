# frozen_string_literal: true

require_relative 'convert'
require_relative 'handle'
require_relative 'index'
require_relative 'metrics'
require_relative 'native'

module Ann
  # The one writer of a live index: a directory that takes upserts and deletes after build,
  # durably, while other processes read it (Ann::Index.open and Ann::Index#refresh).
  #
  #   Ann::Writer.open('vectors.live', 3, :angular) do |writer|
  #     writer.upsert(42, [1.0, 0.0, 0.0])
  #     writer.delete(7) # => false: 7 was not there
  #     writer.index.get_nns_by_vector([1.0, 0.1, 0.0], 1) # => [42], at once, no build step
  #   end
  #
  # A write returns once it is in the directory's log: with `durability: :sync` (the default)
  # also synced to disk, so it survives a crash and a power loss; with `:timer` the log is
  # synced every `flush_ms` milliseconds (and on #sync and #close), so a power loss can lose
  # the last `flush_ms` of writes, a process crash none. #compact folds everything into one
  # new segment file.
  #
  # One writer per directory, in any process: a second one raises Ann::StateError until the
  # first is closed. Every method may be called from several threads at once (concurrent
  # writes share one log sync); the GVL is released while they wait. #close waits for the
  # calls running in other threads, then syncs, releases the directory and frees the writer;
  # the garbage collector does the same for a writer never closed. After #close every call
  # raises Ann::ClosedError.
  class Writer
    CLOSED = 'this writer is closed: open a new Ann::Writer'

    # ANN_DURABILITY_* by name.
    DURABILITIES = { sync: 0, timer: 1 }.freeze

    class << self
      # As ::new; with a block, yields the writer, closes it afterwards and returns the
      # block's value.
      def open(dir, dim, metric, **options)
        writer = new(dir, dim, metric, **options)
        return writer unless block_given?

        begin
          yield writer
        ensure
          writer.close
        end
      end
    end

    # The directory, as given.
    attr_reader :dir

    # Floats per vector (bits, for hamming).
    attr_reader :dim

    # The metric as a Symbol (:angular, :euclidean, :manhattan, :dot or :hamming).
    attr_reader :metric

    # :sync or :timer.
    attr_reader :durability

    # Milliseconds between log syncs with `durability: :timer`.
    attr_reader :flush_ms

    # Trees of the segments #compact builds (-1: Annoy's automatic count).
    attr_reader :n_trees

    # The graph of the segments #compact builds, as given: false (none), true (the default
    # degree, 32) or the degree, the most neighbours per item.
    attr_reader :graph

    # Opens the live index directory `dir` for writing, creating it (and its parents) when
    # missing; an existing one must hold vectors of this `dim` and `metric` (else
    # Ann::ArgumentError), and its log is replayed: every acknowledged write is back.
    # `durability`: :sync or :timer (see the class). `flush_ms`: 1 to 60000. `n_trees`: at
    # least 1, or -1. `graph`: true, or a degree from 1 to 256, has #compact (and #export of
    # the writer's index) build a graph into each new segment, as Ann::Index#build_graph
    # would, so queries on compacted items walk it; true picks the default degree (32), false
    # (the default) builds none. Another writer on `dir` raises Ann::StateError.
    def initialize(dir, dim, metric, durability: :sync, flush_ms: 100, n_trees: 50, graph: false)
      @dir = Convert.path(dir, 'dir')
      @dim = Convert.integer(dim, 'dim', 0..Convert::U32_MAX)
      code = Metrics.code(metric)
      @metric = Metrics.name(code)
      @durability = durability_name(durability)
      @flush_ms = Convert.integer(flush_ms, 'flush_ms', 0..Convert::U32_MAX)
      @n_trees = Convert.integer(n_trees, 'n_trees', Convert::I32)
      @graph = graph_setting(graph)
      @handle = open_writer(code)
    end

    # Adds item `key` (0 to 2**64 - 2), or replaces its vector: `dim` Numerics, finite.
    # Returns self once the write is logged (see the class); the writer's #index returns it
    # from then on, readers after Ann::Index#refresh.
    def upsert(key, vector)
      key = Convert.key(key)
      buffer = Convert.float_buffer(vector, dim)
      @handle.shared { |writer| Native.check(Native.ann_upsert(writer, key, buffer)) }
      self
    end

    # Upserts `keys[i]` with `vectors[i]` for every i, as one log record: after a crash, all
    # of them are there or none; a bad vector refuses the whole batch. Returns self.
    def upsert_batch(keys, vectors)
      key_buffer, count = Convert.key_buffer(keys, 'keys')
      raise ArgumentError, "vectors must be an Array of vectors, not #{vectors.class}" unless Convert.listish?(vectors)

      rows = vectors.to_a
      raise ArgumentError, "#{count} keys but #{rows.size} vectors: give one vector per key" if rows.size != count

      buffer = Convert.float_rows(rows, dim)
      @handle.shared { |writer| Native.check(Native.ann_upsert_batch(writer, key_buffer, buffer, count)) }
      self
    end

    # Deletes item `key`. Returns whether it was there (a key that is not there is no error;
    # the reserved 2**64 - 1 is: Ann::ArgumentError).
    def delete(key)
      key = Convert.key(key)
      existed = FFI::MemoryPointer.new(:bool)
      @handle.shared { |writer| Native.check(Native.ann_delete(writer, key, existed)) }
      existed.read(:bool)
    end

    # Deletes `keys` as one log record. Returns how many of them were there. Keys holding the
    # reserved 2**64 - 1 are refused whole (Ann::ArgumentError).
    def delete_batch(keys)
      buffer, count = Convert.key_buffer(keys, 'keys')
      deleted = FFI::MemoryPointer.new(:size_t)
      @handle.shared { |writer| Native.check(Native.ann_delete_batch(writer, buffer, count, deleted)) }
      Native.read_size(deleted)
    end

    # Syncs the log now: every write made so far is on disk when it returns (for
    # `durability: :timer`). Returns self.
    def sync
      @handle.shared { |writer| Native.check(Native.ann_sync(writer)) }
      self
    end

    # Folds every live item into one new segment, built on `n_threads` threads (-1: every
    # core) with #n_trees trees (and a graph when #graph asks for one), then switches the
    # directory to it; old files go once no reader maps them. It runs on the calling thread,
    # without the GVL: writes and queries in other threads go on meanwhile. On failure (a
    # full disk) the directory keeps its state and the error says why. Returns self.
    def compact(n_threads: -1)
      n_threads = Convert.integer(n_threads, 'n_threads', Convert::I32)
      @handle.shared { |writer| Native.check(Native.ann_compact(writer, n_threads)) }
      self
    end

    # A read-only Ann::Index on this live index that sees every write as soon as the write
    # returns: every query works on it, a deleted key is never returned, and #search returns
    # exactly min(n, live accepted items). Adding, building and saving raise Ann::StateError
    # (#export writes a file). It is a handle of its own, closed on its own (or by the
    # garbage collector); it may outlive the writer, and then stops changing. With a block,
    # yields it, closes it afterwards and returns the block's value.
    def index(&block)
      handle = @handle.shared { |writer| Handle.create(:ann_writer_index, writer) }
      Index.send(:wrap, handle, &block)
    end

    # Syncs the log, releases the directory (another writer may open it) and frees the
    # writer, after the calls running in other threads finish. Indexes from #index stay
    # usable. Closing twice is fine.
    def close
      @handle.close
    end

    def closed?
      @handle.closed?
    end

    def inspect
      state = closed? ? 'closed' : "durability=#{durability}"
      "#<#{self.class} #{dir.inspect} dim=#{dim} metric=#{metric} #{state}>"
    end

    private

    def durability_name(value)
      name = (value.to_sym if value.is_a?(Symbol) || value.is_a?(String))
      return name if DURABILITIES.key?(name)

      raise ArgumentError, "durability must be :sync or :timer, not #{value.inspect}"
    end

    # `graph:` as given: true, false or an Integer degree of at least 1 (libann refuses one
    # above 256).
    def graph_setting(value)
      return value if [true, false].include?(value)
      unless value.is_a?(Integer)
        raise ArgumentError, "graph must be true, false or an Integer degree, not #{value.class}"
      end
      return value if (1..Convert::U32_MAX).cover?(value)

      raise ArgumentError, "graph must be true, false or a degree from 1 to 256, got #{value}"
    end

    # The writer's handle, opened with native options made from the settings (and freed
    # once the writer is open).
    def open_writer(code)
      options = Handle.create(:ann_writer_options_new, dim, code, free: :ann_writer_options_free)
      begin
        options.exclusive do |pointer|
          Native.check(Native.ann_writer_options_set_durability(pointer, DURABILITIES.fetch(durability)))
          Native.check(Native.ann_writer_options_set_flush_ms(pointer, flush_ms))
          Native.check(Native.ann_writer_options_set_n_trees(pointer, n_trees))
          enabled, degree = graph.is_a?(Integer) ? [true, graph] : [graph, 0]
          Native.check(Native.ann_writer_options_set_graph(pointer, enabled, degree))
          Handle.create(:ann_writer_open, dir, pointer, free: :ann_writer_free, closed: CLOSED)
        end
      ensure
        options.close
      end
    end
  end
end
