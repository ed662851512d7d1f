# frozen_string_literal: true

require_relative 'convert'
require_relative 'handle'
require_relative 'native'
require_relative 'predicate'

module Ann
  # What Ann::Index#search, #search_by_item and #search_batch accept and how hard they look:
  # a native `ann_search_options *`, reusable across searches and threads.
  #
  #   options = Ann::SearchOptions.new(search_k: 1000, deny: [3, 7]) { |key| key.even? }
  #   index.search(vector, 10, options) # 10 even keys, neither 3 nor 7
  #   options.close                     # or leave it to the garbage collector
  #
  # A key is accepted when it is in the allow-list (if any), not in the deny-list, and the
  # filter (if any) returns a truthy value for it. The lists are copied into libann when set.
  #
  # Any number of searches, in any threads, may use one object at once. Setters wait for the
  # searches using it, then run alone; #close too, and it frees the native object at once
  # (the garbage collector frees it otherwise). After #close every call raises
  # Ann::ClosedError.
  #
  # The filter runs during searches, also on threads that libann creates for batch searches.
  # An exception it raises refuses the key (and the keys after it: the filter is not called
  # again during that search), and the search re-raises it once it has returned. It must not
  # change or close this object or the index it filters (that waits for the running search:
  # a deadlock). Through ffi, each call from a batch search's threads costs a Ruby thread;
  # prefer allow- and deny-lists for large batches.
  class SearchOptions
    CLOSED = 'these search options are closed: create new Ann::SearchOptions'

    # The number of accepted candidates to collect: larger gives better recall and slower
    # searches; -1 means n * n_trees. On an index with a graph it sets the beam width instead,
    # unless #ef does.
    attr_reader :search_k

    # The beam width of a graph search (see Ann::Index#build_graph): how many nodes the walk
    # keeps, at least n; larger gives better recall and slower searches. 0 derives it from
    # #search_k as max(n, 32, search_k / 16). Indexes without a graph ignore it.
    attr_reader :ef

    # The filter (the block or callable given), or nil.
    def filter
      @predicate&.callable
    end

    # `search_k`, `ef`: see #search_k and #ef. `allow`, `deny`: Arrays of keys (or Sets,
    # Ranges...), or nil for none; an empty allow-list accepts nothing. The block, if given, is
    # the filter.
    def initialize(search_k: -1, ef: 0, allow: nil, deny: nil, &filter)
      @handle = Handle.create(:ann_search_options_new, free: :ann_search_options_free, closed: CLOSED)
      @search_k = -1
      @ef = 0
      begin
        self.search_k = search_k
        self.ef = ef
        self.allow = allow
        self.deny = deny
        self.filter = filter
      rescue StandardError
        close
        raise
      end
    end

    # Sets #search_k (an Integer, -1 or more).
    def search_k=(value)
      value = Convert.integer(value, 'search_k', Convert::I64)
      @handle.exclusive { |options| Native.check(Native.ann_search_options_set_search_k(options, value)) }
      @search_k = value
    end

    # Sets #ef (an Integer, 0 or more).
    def ef=(value)
      value = Convert.integer(value, 'ef', 0..Convert::SIZE_MAX)
      @handle.exclusive { |options| Native.check(Native.ann_search_options_set_ef(options, value)) }
      @ef = value
    end

    # Only these keys may be returned (an empty list: none). Replaces an earlier allow-list.
    # libann cannot remove an allow-list, so nil is accepted only when there is none.
    def allow=(keys)
      if keys.nil?
        @handle.exclusive do
          raise StateError, 'libann cannot remove an allow-list: create new Ann::SearchOptions' if @allow_count
        end
        return
      end
      buffer, count = Convert.key_buffer(keys, 'allow')
      @handle.exclusive { |options| Native.check(Native.ann_search_options_set_allow_list(options, buffer, count)) }
      @allow_count = count
    end

    # These keys may not be returned; nil or an empty list removes the deny-list. Replaces an
    # earlier deny-list.
    def deny=(keys)
      buffer, count = keys.nil? ? [nil, 0] : Convert.key_buffer(keys, 'deny')
      @handle.exclusive { |options| Native.check(Native.ann_search_options_set_deny_list(options, buffer, count)) }
      @deny_count = count.zero? ? nil : count
    end

    # Sets the filter: anything responding to `call(key)` (a Proc, lambda or Method), whose
    # truthy result accepts the key; nil removes it.
    def filter=(callable)
      unless callable.nil? || callable.respond_to?(:call)
        raise ArgumentError, "filter must respond to call (a Proc, lambda or Method), not #{callable.class}"
      end

      predicate = callable && Predicate.new(callable)
      @handle.exclusive do |options|
        Native.check(Native.ann_search_options_set_filter(options, predicate&.function, nil))
        @predicate = predicate # the old one (and its C function) is garbage only now
      end
    end

    # Frees the native options now, after the searches using them in other threads finish.
    # Later calls raise Ann::ClosedError. Closing twice is fine.
    def close
      @handle.close
    end

    def closed?
      @handle.closed?
    end

    def inspect
      return "#<#{self.class} closed>" if closed?

      parts = ["search_k=#{search_k}"]
      parts << "ef=#{ef}" unless ef.zero?
      parts << "allow=#{@allow_count} keys" if @allow_count
      parts << "deny=#{@deny_count} keys" if @deny_count
      parts << 'filter' if @predicate
      "#<#{self.class} #{parts.join(' ')}>"
    end

    # For Ann::Index: yields the native pointer to a search (whose block returns its
    # ann_status) while holding these options shared, then raises the first exception the
    # filter raised during that search, or the search's own error. `foreign`: the search
    # calls the filter from threads libann creates (a batch search).
    def use(foreign:)
      @handle.shared do |options|
        status = @predicate ? @predicate.around(foreign: foreign) { yield options } : yield(options)
        Native.check(status)
      end
    end
  end
end
