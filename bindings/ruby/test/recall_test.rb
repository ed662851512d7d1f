# frozen_string_literal: true

require_relative 'test_helper'

# Recall against brute force on random data, for every metric: the index must find the true
# neighbours, report their true distances, and find more of them as search_k grows.
class RecallTest < Minitest::Test
  N_ITEMS = 1500
  N_QUERIES = 20
  # Recall@10 at search_k 500 and 2000 (of 1500 items, 10 trees), measured at 0.90 to 0.97
  # and 0.995 to 1.0 across the metrics; the floors leave room for other seeds, not for a
  # broken search (which scores near 10 / 1500 per candidate it fails to reach).
  FLOORS = { 500 => 0.8, 2000 => 0.95 }.freeze

  # The fraction of returned ids whose true distance is within the true 10th nearest:
  # ties at the cut count, whichever tied id the index returned.
  def recall(metric, data, index, queries, search_k)
    hits = queries.sum do |query|
      cut = Support.distance(metric, data[Support.brute_force(metric, data, query, 10).last], query)
      ids, distances = index.get_nns_by_vector(query, 10, search_k: search_k, include_distances: true)
      ids.zip(distances).each do |id, reported|
        assert Support.close?(Support.distance(metric, data[id], query), reported), "#{metric} id #{id}"
      end
      ids.count { |id| within?(metric, Support.distance(metric, data[id], query), cut) }
    end
    hits / (10.0 * queries.size)
  end

  # Whether `distance` is at least as near as `cut` (larger is nearer for dot).
  def within?(metric, distance, cut)
    metric == :dot ? distance >= cut - 1e-9 : distance <= cut + 1e-9
  end

  Support::METRICS.each do |metric|
    define_method(:"test_#{metric}_recall_against_brute_force") do
      dim = metric == :hamming ? 64 : 16
      data = Support.dataset(metric, N_ITEMS, dim, seed: 3)
      queries = Support.dataset(metric, N_QUERIES, dim, seed: 4)
      index = Support.build(metric, data, n_trees: 10)
      found = FLOORS.keys.to_h { |search_k| [search_k, recall(metric, data, index, queries, search_k)] }
      FLOORS.each { |search_k, floor| assert_operator found[search_k], :>=, floor, "#{metric} #{found}" }
      assert_operator found[2000], :>=, found[500], "#{metric}: more candidates, no better recall"
      warn "#{metric} recall #{found}" if ENV['ANN_SHOW_RECALL']
    end
  end
end
