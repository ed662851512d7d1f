# frozen_string_literal: true

require_relative 'convert'
require_relative 'native'

module Ann
  # Metric names and codes, asked of libann so the gem never keeps a second list.
  module Metrics
    module_function

    # The ANN_METRIC_* code for a Symbol or String name; Ann::ArgumentError if unknown.
    def code(name)
      out = FFI::MemoryPointer.new(:uint32)
      Native.check(Native.ann_metric_from_name(Convert.metric(name), out))
      out.read_uint32
    end

    # The canonical name of a code, as a Symbol (nil for an unknown code).
    def name(code)
      Native.ann_metric_name(code)&.to_sym
    end
  end
end
