# frozen_string_literal: true

require_relative 'native'
require_relative 'shared_lock'

module Ann
  # One native `ann_index *` and the lock that guards it.
  #
  # The pointer lives in an FFI::AutoPointer, whose finalizer calls ann_free when the handle
  # is garbage-collected without #close: the safety net of bindings/README.md. A collected
  # handle has no other references, so no thread can be using it then. #close frees it at
  # once, exactly once, after the queries running in other threads have finished.
  class Handle
    # Takes ownership of `pointer`, a fresh handle from ann_new, ann_load or ann_load_annoy.
    def initialize(pointer)
      @pointer = FFI::AutoPointer.new(pointer, Native.method(:ann_free))
      @lock = SharedLock.new
    end

    # Calls `function` to make a handle into its last (`ann_index **`) argument, and wraps it.
    def self.create(function, *args)
      out = FFI::MemoryPointer.new(:pointer)
      Native.check(Native.public_send(function, *args, out))
      new(out.read_pointer)
    end

    # Yields the pointer while holding the lock shared: for `const ann_index *` calls.
    def shared(&block)
      @lock.shared { block.call(live) }
    end

    # Yields the pointer while holding the lock exclusively: for `ann_index *` calls.
    def exclusive(&block)
      @lock.exclusive { block.call(live) }
    end

    # Frees the native index, waiting for calls in other threads. Idempotent.
    def close
      @lock.exclusive do
        pointer = @pointer
        @pointer = nil
        pointer&.free
      end
      nil
    end

    def closed?
      @pointer.nil?
    end

    private

    def live
      @pointer or raise ClosedError, 'this index is closed: create or load a new one'
    end
  end
end
