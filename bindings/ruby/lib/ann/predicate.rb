# frozen_string_literal: true

require 'ffi'

module Ann
  # A Ruby callable (a block, Proc, lambda or Method) as libann's filter,
  # `bool (*accept)(uint64_t key, void *context)`, for Ann::SearchOptions.
  #
  # libann calls it during searches: on the searching Ruby thread for single searches (FFI
  # takes the GVL back for the call), and on threads Rust creates for batch searches. The ffi
  # gem runs a call from such a foreign thread on a Ruby thread of its own, while the foreign
  # thread waits; nothing else is needed for it to be safe. Every call returns true or false
  # to C: nothing may unwind into libann's frames. So an exception raised by the callable is
  # rescued, the key refused, and the first such exception re-raised to the caller once the
  # search has returned (#around); a `break`, `return` or `throw` out of the block is stopped
  # the same way and reported as a LocalJumpError. Once a search has an exception, the
  # callable is not called again for it: its other keys are refused at once, so the search
  # ends quickly (an Interrupt, say, is not held up by a slow block).
  #
  # Several searches may share one predicate (through shared options). An exception raised
  # on the searching thread goes to that thread's search. One raised on a foreign thread
  # cannot be traced to its search, so it goes to every batch search in flight with this
  # predicate (usually just one).
  class Predicate
    # What one search in flight has collected: whether it calls from foreign threads (a batch
    # search), and the first exception raised for it.
    Search = Struct.new(:foreign, :error)

    JUMPED = 'the filter block left with break, return or throw, which cannot cross libann\'s native ' \
             'search: the key was refused; end the block with its value, or use `next`'

    # The Ruby callable, as given.
    attr_reader :callable

    # The FFI::Function (a C function pointer) that libann calls. It stays alive as long as
    # this object, which the options that use it keep.
    attr_reader :function

    def initialize(callable)
      @callable = callable
      @failures = 0 # exceptions recorded so far, so that #failed? is free until the first
      @mutex = Thread::Mutex.new
      @by_thread = {} # Ruby thread => the search it runs (the innermost one)
      @in_flight = []
      @function = FFI::Function.new(:bool, %i[uint64 pointer], self)
    end

    # Runs the block, a search that may call the predicate, and raises the first exception
    # the predicate raised for that search, if any; otherwise returns the block's value.
    def around(foreign:)
      search = Search.new(foreign, nil)
      thread = Thread.current
      previous = @mutex.synchronize do
        @in_flight << search
        outer = @by_thread[thread]
        @by_thread[thread] = search
        outer
      end
      begin
        result = yield
      ensure
        @mutex.synchronize do
          @in_flight.delete_if { |s| s.equal?(search) }
          previous ? @by_thread[thread] = previous : @by_thread.delete(thread)
        end
      end
      raise search.error if search.error

      result
    end

    # The C callback: whether the search may return `key`. Never raises, never jumps.
    def call(key, _context)
      finished = false
      accepted = (!failed? && @callable.call(key)) ? true : false
      finished = true
      accepted
    rescue Exception => e # rubocop:disable Lint/RescueException -- nothing may unwind into C
      finished = true
      record(e)
      false
    ensure
      unless finished # a break, return or throw is unwinding: stop it here, before C
        record(LocalJumpError.new(JUMPED))
        return false # rubocop:disable Lint/EnsureReturn -- the point: it cancels the jump
      end
    end

    private

    # The searches a call on the current thread belongs to: the thread's own search, or for a
    # thread libann created, every batch search in flight. Call with @mutex held.
    def searches
      own = @by_thread[Thread.current]
      own ? [own] : @in_flight.select(&:foreign)
    end

    # Whether the search(es) this call belongs to already have an exception.
    def failed?
      return false if @failures.zero?

      @mutex.synchronize do
        targets = searches
        !targets.empty? && targets.all?(&:error)
      end
    end

    # Keeps `error` for the search(es) it belongs to, unless they already have one.
    def record(error)
      @mutex.synchronize do
        @failures += 1
        searches.each { |search| search.error ||= error }
      end
    end
  end
end
