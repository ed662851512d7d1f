# frozen_string_literal: true

module Ann
  # The version of this gem (not of libann: see Ann.version).
  VERSION = '0.1.0'

  # The libann ABI this gem was written against (ANN_ABI_VERSION in include/ann.h). The loaded
  # library must report the same from ann_abi_version, or `require 'ann'` fails.
  ABI_VERSION = 1
end
