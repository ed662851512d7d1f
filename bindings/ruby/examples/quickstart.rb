require 'ann'
require 'tmpdir'

path = File.join(Dir.tmpdir, 'quickstart.ann')
index = Ann::Index.new(3, :angular) # or :euclidean, :manhattan, :dot, :hamming
index.add_item(0, [1.0, 0.0, 0.0])
index.add_item(1, [0.0, 1.0, 0.0])
index.add_item(2, [0.7, 0.7, 0.0])
index.seed = 42
index.build(10) # 10 trees, on every core
index.save(path)
index.close # or leave it to the garbage collector

Ann::Index.load(path) do |loaded| # memory-mapped: O(1), shared between processes
  ids, distances = loaded.get_nns_by_vector([0.9, 0.1, 0.0], 2, include_distances: true)
  ids.zip(distances) { |id, distance| puts format('id %d at distance %.4f', id, distance) }
  puts loaded.get_nns_by_item(2, 2, search_k: 1000).inspect
end
