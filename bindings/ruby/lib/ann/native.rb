# frozen_string_literal: true

require 'ffi'
require_relative 'errors'
require_relative 'locate'
require_relative 'version'

module Ann
  # Everything that knows about C: loading libann, the signature of every function, and
  # `check`, which turns a failed ann_status into the matching Ann::Error with the library's
  # message. The rest of the gem never sees a status code.
  #
  # Calls that may take long (building, file I/O, queries) are attached with `blocking: true`:
  # Ruby releases the GVL during them, so other Ruby threads run, and queries on one index run
  # in parallel. The error message is per OS thread in libann. A Ruby thread is one OS thread
  # (1:1 in Ruby 3.1, and by default in later versions, whose M:N scheduler is off unless
  # RUBY_MN_THREADS=1), and releasing the GVL does not move the call to another thread: the
  # function runs on the calling thread and returns to it. So reading the message right after
  # the failing call, on the same thread, reads that call's message.
  module Native
    extend FFI::Library

    # ann_file_summary: what ann_file_info reads from a file without loading it.
    class FileSummary < FFI::Struct
      layout :kind, :uint32, :format_version, :uint32, :metric, :uint32, :dim, :uint32,
             :node_size, :uint32, :n_trees, :uint32, :n_items, :uint64, :n_nodes, :uint64,
             :seed, :uint64, :file_size, :uint64
    end

    # name => [argument types, return type, blocking], for every function of include/ann.h.
    FUNCTIONS = {
      ann_version: [[], :string, false],
      ann_last_error_message: [%i[pointer size_t], :size_t, false],
      ann_status_name: [%i[uint32], :string, false],
      ann_metric_name: [%i[uint32], :string, false],
      ann_metric_from_name: [%i[string pointer], :uint32, false],
      ann_file_info: [[:string, FileSummary.by_ref], :uint32, true],
      ann_new: [%i[uint32 uint32 pointer], :uint32, false],
      ann_free: [%i[pointer], :void, false],
      ann_add_item: [%i[pointer uint64 pointer], :uint32, false],
      ann_add_item_packed: [%i[pointer uint64 pointer size_t], :uint32, false],
      ann_set_seed: [%i[pointer uint64], :uint32, false],
      ann_build: [%i[pointer int32 int32], :uint32, true],
      ann_build_graph: [%i[pointer uint32 int32], :uint32, true],
      ann_unbuild: [%i[pointer], :uint32, false],
      ann_unload: [%i[pointer], :uint32, true],
      ann_save: [%i[pointer string], :uint32, true],
      ann_load: [%i[string bool pointer], :uint32, true],
      ann_open_shards: [%i[pointer size_t bool pointer], :uint32, true],
      ann_on_disk_build: [%i[pointer string], :uint32, true],
      ann_verify: [%i[pointer], :uint32, true],
      ann_load_annoy: [%i[string uint32 uint32 bool pointer], :uint32, true],
      ann_save_annoy: [%i[pointer string], :uint32, true],
      ann_get_item_vector: [%i[pointer uint64 pointer], :uint32, false],
      ann_get_item_packed: [%i[pointer uint64 pointer size_t pointer], :uint32, false],
      ann_get_distance: [%i[pointer uint64 uint64 pointer], :uint32, false],
      ann_get_n_items: [%i[pointer pointer], :uint32, false],
      ann_get_n_stored: [%i[pointer pointer], :uint32, false],
      ann_get_n_trees: [%i[pointer pointer], :uint32, false],
      ann_has_graph: [%i[pointer pointer], :uint32, false],
      ann_get_dim: [%i[pointer pointer], :uint32, false],
      ann_get_metric: [%i[pointer pointer], :uint32, false],
      ann_get_seed: [%i[pointer pointer], :uint32, false],
      ann_get_nns: [%i[pointer pointer size_t int64 pointer pointer pointer], :uint32, true],
      ann_get_nns_by_item: [%i[pointer uint64 size_t int64 pointer pointer pointer], :uint32, true],
      ann_get_nns_packed: [%i[pointer pointer size_t size_t int64 pointer pointer pointer], :uint32, true],
      ann_get_nns_batch: [%i[pointer pointer size_t size_t int64 int32 pointer pointer pointer], :uint32, true],
      ann_search_options_new: [%i[pointer], :uint32, false],
      ann_search_options_free: [%i[pointer], :void, false],
      ann_search_options_set_search_k: [%i[pointer int64], :uint32, false],
      ann_search_options_set_ef: [%i[pointer size_t], :uint32, false],
      ann_search_options_set_allow_list: [%i[pointer pointer size_t], :uint32, true],
      ann_search_options_set_deny_list: [%i[pointer pointer size_t], :uint32, true],
      # The predicate is an FFI::Function (see SearchOptions), passed as a plain pointer.
      ann_search_options_set_filter: [%i[pointer pointer pointer], :uint32, false],
      ann_search: [%i[pointer pointer size_t pointer pointer pointer pointer], :uint32, true],
      ann_search_by_item: [%i[pointer uint64 size_t pointer pointer pointer pointer], :uint32, true],
      ann_search_batch: [%i[pointer pointer size_t size_t pointer int32 pointer pointer pointer], :uint32, true],
      # Live indexes. Writing, syncing, compacting, opening, refreshing and exporting touch
      # files (a write waits for the log's sync, a compaction builds a forest), so they run
      # without the GVL; ann_writer_free syncs the log too.
      ann_writer_options_new: [%i[uint32 uint32 pointer], :uint32, false],
      ann_writer_options_free: [%i[pointer], :void, false],
      ann_writer_options_set_durability: [%i[pointer uint32], :uint32, false],
      ann_writer_options_set_flush_ms: [%i[pointer uint32], :uint32, false],
      ann_writer_options_set_n_trees: [%i[pointer int32], :uint32, false],
      ann_writer_options_set_graph: [%i[pointer bool uint32], :uint32, false],
      ann_writer_open: [%i[string pointer pointer], :uint32, true],
      ann_writer_free: [%i[pointer], :void, true],
      ann_upsert: [%i[pointer uint64 pointer], :uint32, true],
      ann_upsert_batch: [%i[pointer pointer pointer size_t], :uint32, true],
      ann_delete: [%i[pointer uint64 pointer], :uint32, true],
      ann_delete_batch: [%i[pointer pointer size_t pointer], :uint32, true],
      ann_sync: [%i[pointer], :uint32, true],
      ann_compact: [%i[pointer int32], :uint32, true],
      ann_writer_index: [%i[pointer pointer], :uint32, false],
      ann_open: [%i[string bool pointer], :uint32, true],
      ann_refresh: [%i[pointer pointer], :uint32, true],
      ann_export: [%i[pointer string], :uint32, true]
    }.freeze

    class << self
      # The path (or loader name) of the library actually loaded.
      attr_reader :library_path

      # Raises the Ann::Error for `status` unless it is ANN_STATUS_OK. Call it right after the
      # C call, on the same thread (see the module's comment).
      def check(status)
        return if status.zero?

        klass, name = Error.for_code(status)
        raise klass.new(last_error_message, status: name)
      end

      # Calls a getter `function(*args, out)` whose output is one `type` value, and returns it.
      def read(function, type, *args)
        out = FFI::MemoryPointer.new(type)
        check(public_send(function, *args, out))
        out.public_send(:"read_#{type}")
      end

      # `count` size_t values at `pointer`, as Integers.
      def read_sizes(pointer, count)
        FFI.type_size(:size_t) == 8 ? pointer.get_array_of_uint64(0, count) : pointer.get_array_of_uint32(0, count)
      end

      # The size_t value at `pointer`.
      def read_size(pointer)
        read_sizes(pointer, 1).first
      end

      # The calling thread's last libann error message.
      def last_error_message
        size = ann_last_error_message(nil, 0)
        buffer = FFI::MemoryPointer.new(:char, size)
        ann_last_error_message(buffer, size)
        buffer.read_string.force_encoding(Encoding::UTF_8).scrub
      end

      # Loads the first library found (see Locate), checks its ABI, attaches every function.
      def open_library
        @library_path = load_first(Locate.candidates)
        check_abi
        FUNCTIONS.each { |name, (args, result, blocking)| attach(name, args, result, blocking) }
      end

      private

      def load_first(candidates)
        candidates.each do |path, required|
          ffi_lib(path)
          return path
        rescue ::LoadError => e
          raise Ann::LoadError, "ann: cannot load #{path}: #{e.message}; #{Locate::HOW_TO_FIX}" if required
        end
        raise Ann::LoadError, "ann: cannot find libann (looked for ANN_LIB, a cargo build in the source " \
                              "checkout, #{Locate::SONAME} and #{Locate::INSTALLED}); #{Locate::HOW_TO_FIX}"
      end

      # The ABI first: a library of another ABI may lack functions, and this is the real reason.
      def check_abi
        attach(:ann_abi_version, [], :uint32, false)
        abi = ann_abi_version
        return if abi == ABI_VERSION

        raise Ann::LoadError, "ann: #{library_path} has ABI version #{abi}, but this gem (ann #{VERSION}) " \
                              "needs ABI #{ABI_VERSION}: rebuild or reinstall the library that matches " \
                              "the gem, or install the gem that matches the library; #{Locate::HOW_TO_FIX}"
      end

      def attach(name, args, result, blocking)
        attach_function(name, args, result, blocking: blocking)
      rescue FFI::NotFoundError
        raise Ann::LoadError, "ann: #{library_path} has no function #{name}: it is not libann, or it is " \
                              "older than this gem; #{Locate::HOW_TO_FIX}"
      end
    end

    open_library
  end
end
