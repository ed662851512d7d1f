# frozen_string_literal: true

require_relative 'convert'
require_relative 'metrics'
require_relative 'native'

module Ann
  # What Ann.file_info reads from a file without loading it. `kind` is :native (a file with
  # libann's header, every field filled), :annoy (no header, a size that fits a header-less
  # Annoy file: load it with Ann::Index.load_annoy and its dimension and metric; the other
  # fields are 0 and metric is nil) or :unknown. `n_items` is the header's item slots: the
  # largest key + 1 for a file in Annoy's layout, the number of items for a file with sparse
  # keys (Ann::Index#n_items on the loaded index is the largest key + 1 in both cases).
  FileInfo = Struct.new(:kind, :format_version, :metric, :dim, :node_size, :n_trees, :n_items, :n_nodes,
                        :seed, :file_size, keyword_init: true)

  # ann_file_summary.kind values, by name.
  FILE_KINDS = { 0 => :unknown, 1 => :native, 2 => :annoy }.freeze

  # Tells what the file at `path` is, without loading it. A native file's header is checked
  # in full (Ann::CorruptFileError if damaged); a missing file raises Ann::IOError.
  def self.file_info(path)
    summary = Native::FileSummary.new
    Native.check(Native.ann_file_info(Convert.path(path), summary))
    fields = summary.members.to_h { |name| [name, summary[name]] }
    fields[:kind] = FILE_KINDS.fetch(fields[:kind], :unknown)
    fields[:metric] = fields[:kind] == :native ? Metrics.name(fields[:metric]) : nil
    FileInfo.new(**fields)
  end
end
