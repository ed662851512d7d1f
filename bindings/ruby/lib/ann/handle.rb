# frozen_string_literal: true

require_relative 'native'
require_relative 'shared_lock'

module Ann
  # One native handle (an `ann_index *`, or an `ann_search_options *`) and the lock that
  # guards it.
  #
  # The pointer lives in an FFI::AutoPointer, whose finalizer calls the C free function
  # (ann_free, ann_search_options_free) when the handle is garbage-collected without #close:
  # the safety net of bindings/README.md. A collected handle has no other references, so no
  # thread can be using it then. #close frees it at once, exactly once, after the calls
  # running in other threads have finished.
  class Handle
    INDEX_CLOSED = 'this index is closed: create or load a new one'

    # Takes ownership of `pointer`, a fresh handle that the C function `free` releases.
    # `closed` is the message of the Ann::ClosedError raised on use after #close.
    def initialize(pointer, free: :ann_free, closed: INDEX_CLOSED)
      @pointer = FFI::AutoPointer.new(pointer, Native.method(free))
      @lock = SharedLock.new
      @closed_message = closed
    end

    # Calls `function` to make a handle into its last (`T **`) argument, and wraps it; the
    # keywords are #initialize's.
    def self.create(function, *args, **options)
      out = FFI::MemoryPointer.new(:pointer)
      Native.check(Native.public_send(function, *args, out))
      new(out.read_pointer, **options)
    end

    # Yields the pointer while holding the lock shared: for `const T *` calls.
    def shared(&block)
      @lock.shared { block.call(live) }
    end

    # Yields the pointer while holding the lock exclusively: for `T *` calls.
    def exclusive(&block)
      @lock.exclusive { block.call(live) }
    end

    # Frees the native object, waiting for calls in other threads. Idempotent.
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
      @pointer or raise ClosedError, @closed_message
    end
  end
end
