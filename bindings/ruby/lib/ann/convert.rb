# frozen_string_literal: true

require 'ffi'
require_relative 'errors'

module Ann
  # Checks and converts Ruby arguments into what the C functions take. Every check raises
  # Ann::ArgumentError with a message naming the argument, so that bad input is a clear error
  # and never reaches FFI (which would raise its own RangeError or TypeError) or C.
  module Convert
    U32_MAX = (2**32) - 1
    U64_MAX = (2**64) - 1
    I32 = (-(2**31))..((2**31) - 1)
    I64_MAX = (2**63) - 1
    I64 = (-I64_MAX - 1)..I64_MAX
    # The largest size_t of this platform.
    SIZE_MAX = (2**(8 * FFI.type_size(:size_t))) - 1
    # libann's reserved key, "no key" (UINT64_MAX): never a valid key.
    NO_KEY = U64_MAX
    # The largest key: keys are 0 to 2**64 - 2.
    KEY_MAX = U64_MAX - 1

    module_function

    # `value` as an Integer within `range`.
    def integer(value, name, range)
      raise ArgumentError, "#{name} must be an Integer, not #{value.class}" unless value.is_a?(Integer)
      raise ArgumentError, "#{name} must be in #{range}, got #{value}" unless range.cover?(value)

      value
    end

    # A count or size: a non-negative Integer that fits in 64 bits.
    def unsigned(value, name)
      integer(value, name, 0..U64_MAX)
    end

    # A key (an item id): an Integer from 0 to 2**64 - 2; 2**64 - 1 is libann's reserved
    # "no key".
    def key(value, name = 'key')
      raise ArgumentError, "#{name} #{value} (2**64 - 1) is reserved as \"no key\": keys are 0 to 2**64 - 2" if
        value == NO_KEY

      integer(value, name, 0..KEY_MAX)
    end

    # `values`, an Array (or anything with #to_a, such as a Set or a Range) of keys, in native
    # memory for a `const uint64_t *`, and their number. The checks run in C-level loops (no
    # per-key Ruby code); only a failure looks at the keys one by one to name the culprit.
    def key_buffer(values, name)
      raise ArgumentError, "#{name} must be an Array of keys, not #{values.class}" unless listish?(values)

      keys = values.to_a
      unless keys.all?(Integer)
        culprit = keys.find { |k| !k.is_a?(Integer) }
        raise ArgumentError, "#{name} must hold Integer keys, not #{culprit.class}"
      end
      check_key_range(keys, name)
      buffer = FFI::MemoryPointer.new(:uint64, [keys.size, 1].max)
      buffer.put_array_of_uint64(0, keys)
      [buffer, keys.size]
    end

    # Raises unless every key of `keys` (Integers) is in 0..KEY_MAX.
    def check_key_range(keys, name)
      low, high = keys.minmax
      return if keys.empty? || (low >= 0 && high <= KEY_MAX)

      bad = low.negative? ? low : high
      reserved = bad == NO_KEY ? ' (2**64 - 1, reserved: it stands for no key)' : ''
      raise ArgumentError, "#{name} holds #{bad}#{reserved}, which is not a key: keys are 0 to 2**64 - 2"
    end

    # A seed: 64 bits, negative values wrapping as in C.
    def seed(value)
      integer(value, 'seed', -(2**63)..U64_MAX) & U64_MAX
    end

    # A path as the String C expects: anything File.path accepts, without NUL bytes.
    def path(value, name = 'path')
      unless value.is_a?(String) || value.respond_to?(:to_path)
        raise ArgumentError, "#{name} must be a String or Pathname, not #{value.class}"
      end

      path = value.is_a?(String) ? value : value.to_path
      raise ArgumentError, "#{name} #{path.inspect} contains a NUL byte" if path.include?("\0")

      path
    end

    # A metric name as a String: Symbols and Strings are accepted.
    def metric(value)
      unless value.is_a?(Symbol) || value.is_a?(String)
        raise ArgumentError, "metric must be a Symbol or String, not #{value.class}"
      end

      name = value.to_s
      raise ArgumentError, "metric #{name.inspect} contains a NUL byte" if name.include?("\0")

      name
    end

    # `vector`, an Array of `length` Numerics (or anything with #to_a giving one), as floats in
    # native memory for a `const float *`. The values are converted in one C call, with no
    # Ruby-level loop; only a failed conversion looks at them one by one, to name the culprit.
    def float_buffer(vector, length, name = 'vector')
      buffer = FFI::MemoryPointer.new(:float, [length, 1].max)
      put_floats(buffer, 0, array(vector, length, name), name)
      buffer
    end

    # Rows of `length` Numerics, one after the other, in one native buffer (batch queries).
    def float_rows(rows, length)
      buffer = FFI::MemoryPointer.new(:float, [rows.size * length, 1].max)
      rows.each_with_index do |row, q|
        put_floats(buffer, q * length * 4, array(row, length, "vectors[#{q}]"), "vectors[#{q}]")
      end
      buffer
    end

    # Writes the Numerics `values` as floats at byte `offset` of `buffer`.
    def put_floats(buffer, offset, values, name)
      buffer.put_array_of_float(offset, values)
    rescue RangeError, TypeError => e
      culprit = values.index { |x| !x.is_a?(Numeric) } # an index: the culprit itself may be nil
      raise ArgumentError, "#{name} must hold Numeric values, not #{values[culprit].class}" if culprit

      raise ArgumentError, "#{name}: #{e.message}"
    end

    # `words`, an Array of `length` Integers in 0...2**64, for the packed hamming functions.
    def words(words, length, name = 'words')
      array(words, length, name).each do |word|
        integer(word, "each of #{name}", 0..U64_MAX)
      end
    end

    # 64-bit words in native memory, for a `const uint64_t *`.
    def word_buffer(words)
      buffer = FFI::MemoryPointer.new(:uint64, [words.size, 1].max)
      buffer.put_array_of_uint64(0, words)
      buffer
    end

    # Whether `value` is a list: anything with #to_a (an Array, a Set, a Range...) but nil,
    # whose #to_a is [] (nil is a missing argument, never an empty list).
    def listish?(value)
      !value.nil? && value.respond_to?(:to_a)
    end

    # `value` as an Array of `length` elements.
    def array(value, length, name)
      raise ArgumentError, "#{name} must be an Array, not #{value.class}" unless listish?(value)

      values = value.to_a
      raise ArgumentError, "#{name} has #{values.size} values, but the index needs #{length}" if values.size != length

      values
    end
  end
end
