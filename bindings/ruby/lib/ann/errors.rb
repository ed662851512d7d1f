# frozen_string_literal: true

module Ann
  # The base of every error libann reports, carrying the library's message and status.
  #
  # It derives from RuntimeError (and so from StandardError) because annoy-rb raises
  # RuntimeError for the same failures: code that switches to Ann::AnnoyIndex and rescues
  # RuntimeError keeps working, and a bare `rescue => e` catches it as usual.
  class Error < RuntimeError
    # The ann_status values of include/ann.h, by name.
    STATUSES = {
      ok: 0, null_pointer: 1, invalid_argument: 2, invalid_state: 3, io: 4,
      corrupt_file: 5, out_of_memory: 6, buffer_too_small: 7, panic: 8
    }.freeze

    # The status as a Symbol (:invalid_argument, :io, ...).
    attr_reader :status

    # @param message [String] what went wrong and what to do
    # @param status [Symbol] one of STATUSES' keys; defaults to the class's usual status
    def initialize(message = nil, status: self.class.default_status)
      super(message)
      @status = status
    end

    # The status as the integer libann returned (ANN_STATUS_*).
    def code
      STATUSES.fetch(status, -1)
    end

    # The status this class stands for when raised from Ruby code rather than from libann.
    def self.default_status
      :panic
    end

    # The class to raise for a failed libann call that returned `code`.
    def self.for_code(code)
      name = STATUSES.key(code) || :panic
      [CLASSES.fetch(name, InternalError), name]
    end
  end

  # An argument was out of range or of the wrong type: a wrong vector length, an id never
  # added, a NaN, an unknown metric name, a negative count.
  class ArgumentError < Error
    def self.default_status
      :invalid_argument
    end
  end

  # The call does not fit the index's state: adding to a built or loaded index, querying an
  # unbuilt one, building twice.
  class StateError < Error
    def self.default_status
      :invalid_state
    end
  end

  # The index was closed (see Ann::Index#close); make or load a new one.
  class ClosedError < StateError; end

  # The operating system refused a file operation (missing file, permissions, disk full).
  class IOError < Error
    def self.default_status
      :io
    end
  end

  # The file is not a valid index: wrong magic, truncated, checksum mismatch, wrong dimension.
  class CorruptFileError < IOError
    def self.default_status
      :corrupt_file
    end
  end

  # Memory, or another resource such as threads, ran out inside libann.
  class OutOfMemoryError < Error
    def self.default_status
      :out_of_memory
    end
  end

  # A bug: in libann (a caught panic) or in this gem (a NULL pointer, a buffer too small).
  # Close the index involved and report it.
  class InternalError < Error; end

  # Which class each status raises (the rest are InternalError).
  Error::CLASSES = {
    invalid_argument: ArgumentError, invalid_state: StateError, io: IOError,
    corrupt_file: CorruptFileError, out_of_memory: OutOfMemoryError
  }.freeze

  # libann could not be found or loaded, or it has another ABI. Raised by `require 'ann'`,
  # so it is a ::LoadError like any other failed require (and not an Ann::Error).
  class LoadError < ::LoadError; end
end
