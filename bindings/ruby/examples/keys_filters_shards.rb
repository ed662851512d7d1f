require 'ann'
require 'tmpdir'

# Keys are Integers from 0 to 2**64 - 2: sparse ones cost no more than dense ones.
vectors = { 2**40 => [1.0, 0.0], 7 => [0.9, 0.1], (2**63) + 5 => [0.0, 1.0], 12_345 => [0.7, 0.7] }
paths = vectors.each_slice(2).map.with_index do |items, shard|
  index = Ann::Index.new(2, :euclidean)
  items.each { |key, vector| index.add_item(key, vector) }
  path = File.join(Dir.tmpdir, "shard#{shard}.ann")
  index.build(4).save(path).close
  path
end

Ann::Index.open_shards(paths) do |index| # several files, searched as one read-only index
  puts "#{index.n_stored} items, largest key #{index.n_items - 1}"
  # Exactly min(n, accepted) results, whatever the filter: a deny-list, an allow-list, a block.
  p index.search([1.0, 0.0], 2, deny: [2**40])
  p index.search([1.0, 0.0], 3) { |key| key < 2**32 }
  options = Ann::SearchOptions.new(search_k: 100, allow: [7, (2**63) + 5]) # reusable, thread-safe
  p index.search_batch([[1.0, 0.0], [0.0, 1.0]], 1, options)
  options.close
end
