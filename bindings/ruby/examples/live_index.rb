require 'ann'
require 'tmpdir'

base = Dir.mktmpdir
dir = File.join(base, 'products.live') # a live index is a directory, created when missing
Ann::Writer.open(dir, 2, :euclidean) do |writer| # the one writer; closed when the block ends
  writer.upsert_batch([1, 2, 3], [[1.0, 0.0], [0.0, 1.0], [0.7, 0.7]])
  live = writer.index # sees every write as soon as it returns: no build step
  p live.search([0.9, 0.1], 2)
  writer.upsert(4, [0.95, 0.05]) # durable when it returns (durability: :sync, the default)
  puts writer.delete(1) # => true; a key that is not there gives false
  p live.search([0.9, 0.1], 2)

  reader = Ann::Index.open(dir) # as another process would: read-only, no lock
  writer.upsert(5, [0.9, 0.1])
  writer.compact # one new segment file; readers and writes go on meanwhile
  puts reader.refresh # => true: it caught up with the upsert and the compaction
  p reader.search([0.9, 0.1], 2)
  reader.export(File.join(base, 'products.ann')) # one immutable file, for Ann::Index.load
  reader.close
end
