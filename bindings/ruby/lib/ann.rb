# frozen_string_literal: true

# Approximate nearest-neighbour search over libann, the Rust library behind ann: Annoy's
# forest of random-projection trees in self-describing, memory-mapped index files.
#
# `require 'ann'` loads libann (see Ann::Locate for where it looks) and checks its ABI.
# Ann::Index is the API, Ann::Writer writes live indexes (directories that take upserts and
# deletes while other processes read them); Ann::AnnoyIndex is a drop-in for annoy-rb's
# Annoy::AnnoyIndex.
module Ann
end

require_relative 'ann/version'
require_relative 'ann/errors'
require_relative 'ann/native'
require_relative 'ann/index'
require_relative 'ann/search_options'
require_relative 'ann/writer'
require_relative 'ann/file_info'
require_relative 'ann/annoy_index'

module Ann
  class << self
    # libann's own version, e.g. "0.1.0".
    def version
      Native.ann_version
    end

    # The ABI version of the library actually loaded (equal to Ann::ABI_VERSION, or the
    # require would have failed).
    def abi_version
      Native.ann_abi_version
    end

    # The path of the library loaded (or its SONAME, when the system's loader found it).
    def library_path
      Native.library_path
    end
  end
end
