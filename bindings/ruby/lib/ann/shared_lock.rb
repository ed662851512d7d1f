# frozen_string_literal: true

module Ann
  # Many readers or one writer, guarding one native handle.
  #
  # FFI releases the GVL during long calls, so without this a #close in one thread could free
  # the handle while another thread is still querying it: a use after free, i.e. a crash,
  # which a Ruby user must never see. Queries hold the lock shared, so they still run in
  # parallel, as libann allows for `const ann_index *`. Calls that change or free the index
  # hold it exclusively, which is also what libann requires for `ann_index *`.
  #
  # A waiting writer blocks new readers, so a stream of queries cannot starve #close.
  # The lock is not reentrant: the gem never takes it twice on one thread.
  class SharedLock
    def initialize
      @mutex = Thread::Mutex.new
      @changed = Thread::ConditionVariable.new
      @readers = 0
      @writing = false
      @writers_waiting = 0
    end

    # Runs the block while holding the lock shared.
    def shared
      @mutex.synchronize do
        @changed.wait(@mutex) while @writing || @writers_waiting.positive?
        @readers += 1
      end
      begin
        yield
      ensure
        @mutex.synchronize do
          @readers -= 1
          @changed.broadcast if @readers.zero?
        end
      end
    end

    # Runs the block while holding the lock exclusively.
    def exclusive
      acquire_exclusive
      begin
        yield
      ensure
        @mutex.synchronize do
          @writing = false
          @changed.broadcast
        end
      end
    end

    private

    def acquire_exclusive
      @mutex.synchronize do
        @writers_waiting += 1
        begin
          @changed.wait(@mutex) while @writing || @readers.positive?
        ensure
          @writers_waiting -= 1
        end
        @writing = true
      end
    end
  end
end
